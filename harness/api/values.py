"""One typing vocabulary for every value a user writes: intervention parameters, matrix options
(flags and config keys), ``--model_args`` and ``--gen_kwargs``.

Values arrive in three forms, each with one reading:

* ``k=v`` text (``--model_args``, ``--gen_kwargs``): lm-eval's reading (:func:`read_kv`):
  ``true``/``false`` -> bool, integers -> int, other numbers -> float (finite only), else a
  string, so ``max_length=512`` reaches HF and vLLM alike as the number 512;
* text inside an intervention spec (``sbs:max_gen_toks=64``): read by the parameter's declared
  type (:func:`convert`; booleans also as yes/no/on/off/1/0, integers also as ``1e3``);
* values that already have a type (a YAML config, a Python caller, parsed ``k=v`` pairs): checked
  strictly against a kind (:func:`check`); the YAML string ``"no"`` is not a boolean.

Every bad value is a :class:`UsageError` naming the flag, key or parameter and what was expected.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

from tom_harness.api.errors import UsageError, closest

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
#: kind -> what a message says was expected
EXPECT = {
    "str": "a string", "bool": "true or false", "int": "an integer", "int+": "an integer >= 1",
    "fraction": "a number in (0, 1]", "float>=0": "a number >= 0",
}
#: model_args keys with a declared kind; other keys pass through as read
MODEL_ARG_KINDS: dict[str, str] = {
    "pretrained": "str", "tokenizer": "str", "peft": "str", "revision": "str", "gguf_file": "str",
    "subfolder": "str", "backend": "str", "name": "str",
    "max_length": "int+", "max_batch_size": "int+", "tensor_parallel_size": "int+",
    "data_parallel_size": "int+", "max_model_len": "int+", "prefix_token_id": "int",
    "trust_remote_code": "bool", "add_bos_token": "bool", "truncation": "bool",
    "logits_cache": "bool", "enforce_eager": "bool", "enable_prefix_caching": "bool",
    "enable_thinking": "bool", "gpu_memory_utilization": "fraction",
}
DTYPES = ("auto", "float32", "float16", "bfloat16", "float64")
#: generation settings with a declared kind; other keys go to the backend as given
GEN_KWARG_KINDS: dict[str, str] = {
    "max_gen_toks": "int+", "max_new_tokens": "int+", "top_k": "int", "do_sample": "bool",
    "temperature": "float>=0", "top_p": "fraction", "num_beams": "int+", "repetition_penalty": "float>=0",
}
#: model_args keys read as plain strings (paths, revisions: ``revision=1234`` is not a number)
MODEL_ARG_STR_KEYS = tuple(k for k, t in MODEL_ARG_KINDS.items() if t == "str")


# -- k=v text (lm-eval's reading) -----------------------------------------------------------------
def split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` except inside [...] brackets."""
    out, depth, cur = [], 0, []
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(0, depth - 1)
        if ch == sep and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return [p for p in (s.strip() for s in out) if p]


def read_kv(raw: str, where: str = "") -> Any:
    """lm-eval's reading of one ``k=v`` value (see the module doc)."""
    text = raw.strip()
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text
    if not math.isfinite(number):
        raise UsageError(f"{where or 'value'}: expected a finite number, got {raw!r}")
    return number


def parse_kv(text: str | dict | None, flag: str, keep_str: Sequence[str] = ()) -> dict[str, Any]:
    """``k=v,k2=v2`` into a dict of values read by :func:`read_kv` (a mapping is copied as is).

    Errors name ``flag`` and the item; keys in ``keep_str`` (paths, revisions) stay strings."""
    if text is None or text == "":
        return {}
    if isinstance(text, dict):
        return dict(text)
    if not isinstance(text, str):
        raise UsageError(f"{flag}: expected k=v,k2=v2 text or a mapping, got {text!r}")
    out: dict[str, Any] = {}
    for item in split_top_level(text):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise UsageError(f"{flag}: malformed item {item!r}; expected key=value")
        if key in out:
            raise UsageError(f"{flag}: key {key!r} given twice")
        out[key] = value.strip() if key in keep_str else read_kv(value, f"{flag} {key}")
    return out


# -- typed values (config, Python, parsed k=v) ----------------------------------------------------
def check(kind: str, value: Any, where: str) -> Any:
    """``value`` checked against ``kind`` (a key of :data:`EXPECT`); a UsageError says what was expected."""
    bad = UsageError(f"{where}: expected {EXPECT[kind]}, got {value!r}")
    if kind == "str":
        if isinstance(value, (dict, list)) or value is None:
            raise bad
        return str(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise bad
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise bad
    if kind in ("int", "int+"):
        if float(value) != int(value) or (kind == "int+" and value < 1):
            raise bad
        return int(value)
    if kind == "fraction" and not 0 < value <= 1:
        raise bad
    if kind == "float>=0" and value < 0:
        raise bad
    return float(value)


def check_pairs(pairs: dict[str, Any], kinds: dict[str, str], flag: str) -> dict[str, Any]:
    """Every key with a declared kind checked; other keys must be single finite values."""
    out = dict(pairs)
    for key, value in pairs.items():
        if not isinstance(key, str) or not key:
            raise UsageError(f"{flag}: keys must be names, got {key!r}")
        if key in kinds:
            out[key] = check(kinds[key], value, f"{flag} {key}")
        elif isinstance(value, (dict, list)):
            raise UsageError(f"{flag} {key}: expected a single value, got {value!r}")
        elif isinstance(value, float) and not math.isfinite(value):
            raise UsageError(f"{flag} {key}: expected a finite number, got {value!r}")
    return out


def model_args(value: str | dict | None, flag: str = "--model_args") -> dict[str, Any]:
    """``--model_args`` text or mapping, read and checked (``max_length=abc`` fails here)."""
    pairs = parse_kv(value, flag, keep_str=MODEL_ARG_STR_KEYS)
    if "dtype" in pairs and str(pairs["dtype"]) not in DTYPES:
        hint = closest(str(pairs["dtype"]), DTYPES)
        raise UsageError(f"{flag} dtype: expected one of {', '.join(DTYPES)}, got {pairs['dtype']!r}"
                         + (f"; did you mean {hint[0]!r}?" if hint else ""))
    return check_pairs(pairs, MODEL_ARG_KINDS, flag)


def gen_kwargs(value: str | dict | None, flag: str = "--gen_kwargs") -> dict[str, Any]:
    """``--gen_kwargs`` text or mapping, read and checked."""
    return check_pairs(parse_kv(value, flag), GEN_KWARG_KINDS, flag)


def check_int(value: Any, where: str, minimum: int = 0, maximum: int | None = None) -> int | None:
    """An integer in [minimum, maximum] from a number or its text (None stays None)."""
    if value is None:
        return None
    bad = UsageError(f"{where}: expected an integer >= {minimum}"
                     + (f" and <= {maximum}" if maximum is not None else "") + f", got {value!r}")
    if isinstance(value, bool) or isinstance(value, (list, dict)):
        raise bad
    try:
        number = float(str(value).strip())
    except ValueError:
        raise bad from None
    if not math.isfinite(number) or not number.is_integer() or number < minimum:
        raise bad
    if maximum is not None and number > maximum:
        raise bad
    return int(number)


def check_limit(value: Any, where: str = "--limit") -> int | float | None:
    """lm-eval's meaning: an integer >= 1 is a document count, 0 < x < 1 a fraction of the
    documents. Other values (1.5, 0, negatives, nan, inf) are refused, not rounded."""
    if value is None:
        return None
    if isinstance(value, bool) or isinstance(value, (list, dict)):
        raise UsageError(f"{where}: expected a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{where}: expected a number, got {value!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise UsageError(f"{where}: expected a document count >= 1 or a fraction in (0, 1), got {value!r}")
    if number < 1:
        return number
    if not number.is_integer():
        raise UsageError(f"{where}: {value!r} is neither a whole number of documents nor a fraction "
                         f"below 1 (lm-eval would silently use {int(number)})")
    return int(number)


def check_batch_size(value: Any, where: str = "--batch_size") -> Any:
    """An integer >= 1, ``auto`` or ``auto:N`` (lm-eval's forms)."""
    bad = UsageError(f"{where}: expected an integer >= 1 or auto, got {value!r}")
    if isinstance(value, (bool, list, dict)) or value is None:
        raise bad
    text = str(value).strip()
    if text == "auto":
        return "auto"
    if text.startswith("auto:"):
        if text[5:].isdigit() and int(text[5:]) >= 1:
            return text
        raise UsageError(f"{where}: expected auto:N with N >= 1, got {value!r}")
    try:
        return check_int(text, where, 1)
    except UsageError:
        raise bad from None


def check_bool(value: Any, where: str) -> bool:
    """Config booleans must be YAML booleans: the string "no" is truthy in Python."""
    if isinstance(value, bool):
        return value
    raise UsageError(f"{where}: expected true or false, got {value!r}"
                     + (" (a string; write it without quotes)" if isinstance(value, str) else ""))


def check_names(value: Any, where: str, what: str = "name") -> list[str]:
    """A comma-separated string or a list of strings (``tasks: 5`` fails here)."""
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",")]
    elif isinstance(value, (list, tuple)):
        items = []
        for v in value:
            if not isinstance(v, str):
                raise UsageError(f"{where}: expected a list of {what}s, got an item {v!r}")
            items.extend(x.strip() for x in v.split(","))
    else:
        raise UsageError(f"{where}: expected a {what} or a list of {what}s, got {value!r}")
    return [i for i in items if i]


# -- intervention parameters (the spec grammar's reading) -----------------------------------------
def convert(kind: str, raw: Any) -> Any:
    """One raw (text or Python) parameter value as ``kind`` (int, float, bool, str, int_list);
    raises TypeError/ValueError for the caller to name the parameter."""
    if kind == "int":
        if isinstance(raw, bool):
            raise TypeError
        if isinstance(raw, (int, float)):
            if isinstance(raw, float) and not raw.is_integer():
                raise ValueError
            return int(raw)
        f = float(str(raw))
        if not f.is_integer():
            raise ValueError
        return int(f)
    if kind == "float":
        if isinstance(raw, bool):
            raise TypeError
        v = float(raw)
        if not math.isfinite(v):  # inf/nan are never a meaningful strength, scale or rate
            raise ValueError
        return v
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        s = str(raw).strip().lower()
        if s in _TRUE or s in _FALSE:
            return s in _TRUE
        raise ValueError
    if kind == "str":
        if not isinstance(raw, (str, int, float)):
            raise TypeError
        return str(raw)
    if kind == "int_list":
        if isinstance(raw, (list, tuple)):
            return [convert("int", x) for x in raw]
        s = str(raw).strip()
        if s.startswith("[") != s.endswith("]"):
            raise ValueError
        s = s[1:-1] if s.startswith("[") else s
        if ":" in s:
            return list(int_range(s))
        return [convert("int", x) for x in s.split(",") if x.strip()]
    raise ValueError(f"unknown parameter type {kind}")


def int_range(text: str) -> range:
    """``start:stop[:step]`` of integers, a half-open Python range (raises ValueError)."""
    parts = [convert("int", p) for p in text.split(":")]
    if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] == 0):
        raise ValueError
    return range(*parts)
