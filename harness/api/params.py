"""Typed intervention parameters and the ``name:key=value,...`` spec grammar.

Values are typed by :mod:`tom_harness.api.values` (the one typing vocabulary of the harness);
this module declares parameters, parses specs and expands ranges into rows.

Grammar (documented in the README):

* ``name`` or ``name:key=value,key=value``; values never contain a bare comma, except inside
  brackets: ``seeds=[0,3,7]`` is a list.
* A range, or a bracketed list for a scalar parameter (``m=[1e-5,3e-5]``), expands to one
  matrix row per value. For integer parameters ``start:stop[:step]`` is a
  half-open Python range (``seeds=0:5`` -> 0,1,2,3,4). For float parameters ``start:stop:step`` is
  a grid that includes ``stop`` when it falls on the grid (``m=0:4e-5:1e-5`` -> 5 values).
* A parameter declared ``replicate=True`` (e.g. random seeds) still expands to rows, and tables
  summarise those rows as mean and 95 % interval.
"""
from __future__ import annotations

import contextvars
import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

from tom_harness.api.errors import UsageError, closest
from tom_harness.api.values import convert, int_range, split_top_level

#: most matrix rows one run may expand to (``--max_rows`` raises it); a typo such as
#: ``m=0:1e-4:1e-9`` (100,001 rows) is refused before anything is built
DEFAULT_MAX_ROWS = 1000
MAX_ROWS: contextvars.ContextVar[int] = contextvars.ContextVar("tom_harness_max_rows", default=DEFAULT_MAX_ROWS)


@dataclass(frozen=True)
class Param:
    """One declared parameter of an intervention.

    ``type`` is one of ``int``, ``float``, ``bool``, ``str``, ``int_list``.
    ``choices`` restricts str values. ``replicate`` marks a parameter whose expanded values are
    repeated draws of the same condition (summarised together in tables).
    """

    name: str
    type: str
    default: Any
    help: str = ""
    choices: tuple[str, ...] | None = None
    replicate: bool = False
    #: ``(other_param, value)``: the parameter is a replicate only when ``other_param == value``
    #: (e.g. a seed that matters only for a random control); otherwise it is an ordinary one
    replicate_when: tuple[str, Any] | None = None
    minimum: float | None = None
    maximum: float | None = None

    def describe_type(self) -> str:
        if self.choices:
            return "one of " + "|".join(self.choices)
        return {"int_list": "list of int, e.g. [0,1,2] or 0:5"}.get(self.type, self.type)

    def convert(self, raw: Any, owner: str) -> Any:
        """Convert one raw (string or python) value, raising a UsageError naming the key."""
        where = f"{owner}: parameter {self.name!r}"
        try:
            value = convert(self.type, raw)
        except (TypeError, ValueError):
            raise UsageError(f"{where}: expected {self.describe_type()}, got {raw!r}") from None
        if self.choices and value not in self.choices:
            hint = closest(str(value), self.choices)
            raise UsageError(
                f"{where}: expected {self.describe_type()}, got {raw!r}"
                + (f"; did you mean {hint[0]!r}?" if hint else "")
            )
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                if self.minimum is not None and v < self.minimum:
                    raise UsageError(f"{where}: must be >= {self.minimum}, got {v}")
                if self.maximum is not None and v > self.maximum:
                    raise UsageError(f"{where}: must be <= {self.maximum}, got {v}")
        return value


def _int_range(text: str, cap: int | None = None) -> list[int]:
    span = int_range(text)
    if cap is not None and len(span) > cap:
        raise RowCapError(len(span))
    return list(span)


class RowCapError(ValueError):
    """A range expands to more values than the row cap (carries the count)."""

    def __init__(self, rows: int) -> None:
        super().__init__(rows)
        self.rows = rows


def _cap_message(owner: str, what: str, rows: int, cap: int) -> str:
    return (f"{owner}: {what} expands to {rows} rows, more than the cap of {cap}; "
            f"narrow it, or raise the cap with --max_rows {rows}")


def _float_grid(text: str, cap: int | None = None) -> list[float]:
    parts = [float(p) for p in text.split(":")]
    if len(parts) != 3 or parts[2] <= 0 or parts[1] < parts[0] or not all(map(math.isfinite, parts)):
        raise ValueError
    start, stop, step = parts
    n = int(math.floor((stop - start) / step + 1e-9)) + 1
    if cap is not None and n > cap:
        raise RowCapError(n)
    # round to the step's precision so 3e-05 does not print as 3.0000000000000004e-05
    return [float(f"{start + i * step:.12g}") for i in range(n)]


@dataclass(frozen=True)
class Spec:
    """A parsed spec string before validation: a name and raw values (ranges not yet expanded)."""

    name: str
    raw: dict[str, str] = field(default_factory=dict)


def parse_spec(text: str, pair_sep: str = ",") -> Spec:
    """Parse ``name:key=value,...`` (``pair_sep`` is ';' inside lm-eval model_args)."""
    text = text.strip()
    if not text:
        raise UsageError("empty intervention spec")
    name, _, rest = text.partition(":")
    name = name.strip()
    if not name:
        raise UsageError(f"intervention spec {text!r}: missing the name before ':'")
    if rest.count("[") != rest.count("]"):
        raise UsageError(f"{name}: unbalanced brackets in {rest!r}; a list is written [a,b,c]")
    raw: dict[str, str] = {}
    for item in split_top_level(rest, pair_sep) if rest else []:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise UsageError(f"{name}: malformed parameter {item!r}; expected key=value")
        key = key.strip()
        if key in raw:
            raise UsageError(f"{name}: parameter {key!r} given twice")
        raw[key] = value.strip()
    return Spec(name, raw)


def expand(owner: str, params: Sequence[Param], raw: dict[str, Any]) -> list[dict[str, Any]]:
    """Validate raw values against declared params and expand ranges: one dict per row.

    Unknown keys raise a UsageError naming the closest declared ones.
    """
    by_name = {p.name: p for p in params}
    cap = MAX_ROWS.get()
    for key in raw:
        if key not in by_name:
            hint = closest(key, by_name)
            valid = ", ".join(by_name) or "(none)"
            raise UsageError(
                f"{owner}: unknown parameter {key!r}"
                + (f"; did you mean {hint[0]!r}?" if hint else "")
                + f" (valid: {valid})"
            )
    axes: list[list[tuple[str, Any]]] = []
    for p in params:
        if p.name not in raw:
            axes.append([(p.name, p.default)])
            continue
        value = raw[p.name]
        values: list[Any]
        if isinstance(value, str) and ":" in value and p.type in ("int", "float"):
            try:
                grid = _int_range(value, cap) if p.type == "int" else _float_grid(value, cap)
            except RowCapError as exc:
                raise UsageError(_cap_message(owner, f"parameter {p.name!r} range {value!r}", exc.rows, cap)) from None
            except (TypeError, ValueError):
                raise UsageError(
                    f"{owner}: parameter {p.name!r}: malformed range {value!r}; expected "
                    + ("start:stop[:step] of integers" if p.type == "int" else "start:stop:step")
                ) from None
            if not grid:
                raise UsageError(f"{owner}: parameter {p.name!r}: range {value!r} is empty")
            values = [p.convert(v, owner) for v in grid]
        elif isinstance(value, str) and value.startswith("[") and p.type != "int_list":
            if not value.endswith("]"):
                raise UsageError(f"{owner}: parameter {p.name!r}: unclosed list {value!r}; expected [a,b,...]")
            items = split_top_level(value.strip()[1:-1])
            values = [p.convert(v, owner) for v in items]
            if not values:
                raise UsageError(f"{owner}: parameter {p.name!r}: empty list {value!r}")
        else:
            values = [p.convert(value, owner)]
        axes.append([(p.name, v) for v in values])
    rows = math.prod(len(a) for a in axes)
    if rows > cap:
        raise UsageError(_cap_message(owner, "the parameter grid", rows, cap))
    return [dict(combo) for combo in itertools.product(*axes)]


def format_value(value: Any) -> str:
    """Canonical text of a parameter value (used in labels, ids and cache keys)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "[" + ",".join(format_value(v) for v in value) + "]"
    return str(value)


