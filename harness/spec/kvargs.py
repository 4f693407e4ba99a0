"""Typed ``k=v,k2=v2`` parsing shared by ``--model_args``, ``--gen_kwargs`` and every backend.

One reading for all backends (lm-eval's): ``true``/``false`` -> bool, integers -> int, other
numbers -> float (finite only), anything else a string, so ``max_length=512`` reaches HF and
vLLM alike as the number 512. Errors name the flag and the item.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

from tom_harness.api.errors import UsageError
from tom_harness.api.params import split_top_level


def typed_value(raw: str, where: str = "") -> Any:
    """lm-eval's reading of one ``k=v`` value: true/false -> bool, integers -> int, other
    numbers -> float (finite only), anything else stays a string. Shared by every backend so
    ``max_length=512`` reaches HF and vLLM alike as the number 512."""
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
    """``k=v,k2=v2`` (``--model_args``, ``--gen_kwargs``) into a dict of typed values.

    Errors name ``flag`` and the item; keys in ``keep_str`` (paths, revisions) stay strings.
    """
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
        out[key] = value.strip() if key in keep_str else typed_value(value, f"{flag} {key}")
    return out
