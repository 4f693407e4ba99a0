"""``MatrixSpec``: what one ``tom-harness run`` evaluates, from CLI flags and/or a matrix YAML."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from .cache import content_key
from .errors import UsageError, closest
from .models import BACKENDS, parse_model_args


@dataclass
class MatrixSpec:
    """Everything that determines the numbers of a matrix (not where they are written)."""

    model: str = "hf"
    model_args: dict[str, Any] = field(default_factory=lambda: {"pretrained": "smollm2-135m"})
    tasks: list[str] = field(default_factory=list)
    interventions: list[str] = field(default_factory=lambda: ["none"])
    limit: float | None = None
    seed: int = 0
    batch_size: Any = 1
    device: str | None = None
    gen_kwargs: dict[str, Any] = field(default_factory=dict)
    apply_chat_template: bool = False
    system_instruction: str | None = None
    num_fewshot: int | None = None
    bootstrap_iters: int = 1000
    include_path: list[str] = field(default_factory=list)
    plugins: list[str] = field(default_factory=list)
    #: each generation request asked this many times (see harness/repeats.py)
    repeats: int = 1

    #: fields that change the numbers; ``batch_size``/``device`` only change speed
    _IDENTITY = (
        "model", "model_args", "tasks", "interventions", "limit", "seed", "gen_kwargs",
        "apply_chat_template", "system_instruction", "num_fewshot", "include_path", "repeats",
    )

    def validate(self) -> "MatrixSpec":
        if self.model not in BACKENDS:
            hint = closest(self.model, BACKENDS)
            raise UsageError(
                f"unknown --model {self.model!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
                + f" (valid: {', '.join(BACKENDS)})"
            )
        if not self.tasks:
            raise UsageError("no tasks given: use --tasks name[,name...] (see `tom-harness list`)")
        if not self.interventions:
            raise UsageError("no interventions given: use --interventions none [SPEC ...]")
        if self.repeats < 1:
            raise UsageError(f"--repeats must be at least 1, got {self.repeats}")
        if self.limit is not None and self.limit <= 0:
            raise UsageError(f"--limit must be positive, got {self.limit}")
        return self

    def identity(self) -> dict[str, Any]:
        # repeats=1 is left out so matrices written before --repeats existed keep their hash
        return {k: getattr(self, k) for k in self._IDENTITY if not (k == "repeats" and self.repeats == 1)}

    def fingerprint(self) -> str:
        return content_key(self.identity())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _split_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    out: list[str] = []
    for v in value:
        out.extend(_split_list(v) if isinstance(v, str) and "," in v and ":" not in v else [str(v)])
    return out


def _coerce(name: str, value: Any) -> Any:
    if name == "model_args":
        return parse_model_args(value)
    if name == "gen_kwargs":
        if isinstance(value, dict):
            return value
        return {k: _num(v) for k, v in parse_model_args(value).items()}
    if name in ("tasks", "include_path", "plugins"):
        return _split_list(value)
    if name == "interventions":
        return [value] if isinstance(value, str) else [str(v) for v in value]
    if name == "limit" and value is not None:
        try:
            f = float(value)
        except ValueError:
            raise UsageError(f"--limit: expected a number, got {value!r}") from None
        return int(f) if f >= 1 and f.is_integer() else f
    if name in ("seed", "num_fewshot", "bootstrap_iters", "repeats") and value is not None:
        try:
            return int(value)
        except (TypeError, ValueError):
            raise UsageError(f"--{name}: expected an integer, got {value!r}") from None
    return value


def _num(v: Any) -> Any:
    if isinstance(v, str):
        for conv in (int, float):
            try:
                return conv(v)
            except ValueError:
                pass
    return v


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a matrix YAML; keys are the ``run`` flag names (model, model_args, tasks, ...)."""
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"--config: no such file {p}")
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"--config {p}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"--config {p}: expected a mapping of run options at top level")
    return data


def build_spec(config: dict[str, Any], overrides: dict[str, Any]) -> MatrixSpec:
    """Merge a config mapping and CLI overrides (CLI wins) into a validated spec."""
    valid = {f.name for f in fields(MatrixSpec)}
    merged: dict[str, Any] = {}
    for source in (config, overrides):
        for key, value in source.items():
            if value is None:
                continue
            if key not in valid:
                hint = closest(key, valid)
                raise UsageError(
                    f"matrix config: unknown key {key!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
                )
            merged[key] = _coerce(key, value)
    return MatrixSpec(**merged).validate()


def spec_json(spec: MatrixSpec) -> str:
    return json.dumps(spec.to_dict(), indent=2, sort_keys=True, default=str)
