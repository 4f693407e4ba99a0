"""Checks of run options that can fail before the model loads, each naming the flag or key.

Everything here is cheap (no model, no task loading), so a typo in an overnight sweep fails in
the first second, not after the model and the tasks have loaded.
"""
from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from tom_harness.api.errors import UsageError, closest

#: model_args keys with a declared type (``int+``: integer >= 1); others pass through typed
_MODEL_ARG_TYPES: dict[str, str] = {
    "pretrained": "str", "tokenizer": "str", "peft": "str", "revision": "str", "gguf_file": "str",
    "subfolder": "str", "backend": "str", "name": "str",
    "max_length": "int+", "max_batch_size": "int+", "tensor_parallel_size": "int+",
    "data_parallel_size": "int+", "max_model_len": "int+", "prefix_token_id": "int",
    "trust_remote_code": "bool", "add_bos_token": "bool", "truncation": "bool",
    "logits_cache": "bool", "enforce_eager": "bool", "enable_prefix_caching": "bool",
    "enable_thinking": "bool", "gpu_memory_utilization": "fraction",
}
DTYPES = ("auto", "float32", "float16", "bfloat16", "float64")
#: generation settings with a declared type; other keys go to the backend as given
_GEN_TYPES: dict[str, str] = {
    "max_gen_toks": "int+", "max_new_tokens": "int+", "top_k": "int", "do_sample": "bool",
    "temperature": "float>=0", "top_p": "fraction", "num_beams": "int+", "repetition_penalty": "float>=0",
}
MODEL_ARG_STR_KEYS = tuple(k for k, t in _MODEL_ARG_TYPES.items() if t == "str")
_DEVICE = re.compile(r"^(cpu|mps|(cuda|xpu|npu|hpu)(:\d+)?)$")


def _typed(kind: str, value: Any, where: str) -> Any:
    """``value`` checked against ``kind``; a UsageError says what was expected."""
    bad = UsageError(f"{where}: expected {_EXPECT[kind]}, got {value!r}")
    if kind == "str":
        if isinstance(value, (dict, list)) or value is None:
            raise bad
        return str(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise bad
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad
    if not math.isfinite(value):
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


_EXPECT = {
    "str": "a string", "bool": "true or false", "int": "an integer", "int+": "an integer >= 1",
    "fraction": "a number in (0, 1]", "float>=0": "a number >= 0",
}


def check_model_args(args: dict[str, Any], flag: str = "--model_args") -> dict[str, Any]:
    """Known model_args keys typed and range-checked (``max_length=abc`` fails here)."""
    out = dict(args)
    for key, value in args.items():
        if not isinstance(key, str) or not key:
            raise UsageError(f"{flag}: keys must be names, got {key!r}")
        if key == "dtype":
            if str(value) not in DTYPES:
                hint = closest(str(value), DTYPES)
                raise UsageError(f"{flag} dtype: expected one of {', '.join(DTYPES)}, got {value!r}"
                                 + (f"; did you mean {hint[0]!r}?" if hint else ""))
            continue
        kind = _MODEL_ARG_TYPES.get(key)
        if kind is not None:
            out[key] = _typed(kind, value, f"{flag} {key}")
        elif isinstance(value, (dict, list)):
            raise UsageError(f"{flag} {key}: expected a single value, got {value!r}")
    return out


def check_gen_kwargs(kwargs: dict[str, Any], flag: str = "--gen_kwargs") -> dict[str, Any]:
    out = dict(kwargs)
    for key, value in kwargs.items():
        if not isinstance(key, str) or not key:
            raise UsageError(f"{flag}: keys must be names, got {key!r}")
        kind = _GEN_TYPES.get(key)
        if kind is not None:
            out[key] = _typed(kind, value, f"{flag} {key}")
        elif isinstance(value, float) and not math.isfinite(value):
            raise UsageError(f"{flag} {key}: expected a finite number, got {value!r}")
    return out


def check_device(device: Any, where: str = "--device") -> str | None:
    """A torch device name that exists on this machine (``cuda`` without a GPU fails here)."""
    if device is None:
        return None
    text = str(device).strip()
    if not isinstance(device, str) or not _DEVICE.match(text):
        raise UsageError(f"{where}: expected cpu, cuda, cuda:N or mps, got {device!r}")
    import torch

    if text.startswith("cuda"):
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        index = int(text.split(":")[1]) if ":" in text else 0
        if index >= count:
            raise UsageError(f"{where} {text}: this machine has {count} CUDA device(s); use --device cpu"
                             + (f" or cuda:0..cuda:{count - 1}" if count else ""))
    if text == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise UsageError(f"{where} mps: Apple MPS is not available here; use --device cpu")
    return text


def check_batch_size(value: Any, where: str = "--batch_size") -> Any:
    """An integer >= 1, ``auto`` or ``auto:N`` (lm-eval's forms)."""
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        raise UsageError(f"{where}: expected an integer >= 1 or auto, got {value!r}")
    text = str(value).strip()
    if text == "auto":
        return "auto"
    if text.startswith("auto:"):
        n = text[5:]
        if n.isdigit() and int(n) >= 1:
            return text
        raise UsageError(f"{where}: expected auto:N with N >= 1, got {value!r}")
    try:
        number = float(text)
    except ValueError:
        raise UsageError(f"{where}: expected an integer >= 1 or auto, got {value!r}") from None
    if not math.isfinite(number) or not number.is_integer() or number < 1:
        raise UsageError(f"{where}: expected an integer >= 1 or auto, got {value!r}")
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


def check_int(value: Any, where: str, minimum: int = 0, maximum: int | None = None) -> int | None:
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


def check_pretrained(args: dict[str, Any]) -> None:
    """After alias resolution: a local folder must hold a model, a hub id must be reachable
    (offline: already in the local cache), a ``peft`` adapter must exist."""
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
    name = str(args.get("pretrained"))
    _check_model_source("pretrained", name, offline, args.get("gguf_file"), "config.json")
    if args.get("peft"):
        _check_model_source("peft", str(args["peft"]), offline, None, "adapter_config.json")
    if args.get("tokenizer"):
        path = Path(str(args["tokenizer"])).expanduser()
        if _looks_local(str(args["tokenizer"])) and not path.exists():
            raise UsageError(f"--model_args tokenizer={args['tokenizer']}: no such file or folder")


def _looks_local(name: str) -> bool:
    return name.startswith((".", "/", "~")) or os.path.exists(os.path.expanduser(name))


def _check_model_source(key: str, name: str, offline: bool, gguf: Any, marker: str) -> None:
    path = Path(name).expanduser()
    if _looks_local(name):
        if not path.exists():
            raise UsageError(f"--model_args {key}={name}: {name} does not exist (no such file or folder)")
        if path.is_dir():
            if gguf:
                if not (path / str(gguf)).is_file():
                    raise UsageError(f"--model_args gguf_file={gguf}: not found in {path}")
            elif not (path / marker).is_file():
                raise UsageError(f"--model_args {key}={name}: the folder has no {marker}; expected a "
                                 f"transformers {'adapter' if key == 'peft' else 'model'} folder")
        return
    if offline:
        from huggingface_hub import try_to_load_from_cache

        try:
            hit = try_to_load_from_cache(name, marker)
        except Exception:  # noqa: BLE001 - a malformed repo id
            hit = None
        if not isinstance(hit, str):
            raise UsageError(f"--model_args {key}={name}: not a local folder, and not in the Hugging Face "
                             f"cache while HF_HUB_OFFLINE=1; download it first or give a local path")


def check_output_dir(path: Path, flag: str = "--output_path") -> Path:
    """The output directory exists (or can be made) and is writable."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{flag} {path}: is a file; expected a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{flag} {path}: cannot create it ({exc.strerror or exc})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {path}: not writable")
    return path


def check_url(url: str | None, flag: str = "--base_url") -> str | None:
    if url is None:
        return None
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https", "file") or (parsed.scheme != "file" and not parsed.netloc):
        raise UsageError(f"{flag}: expected an http(s):// or file:// URL, got {url!r}")
    return url
