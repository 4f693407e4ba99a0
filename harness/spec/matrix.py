"""``MatrixSpec``: what one ``tom-harness run`` evaluates, from CLI flags and/or a matrix YAML."""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable

import yaml

from tom_harness.cache.artifacts import content_key
from tom_harness.api.errors import UsageError, closest
from tom_harness.api import values
from tom_harness.spec.option_checks import check_device

log = logging.getLogger("tom_harness")


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
        # ``model`` is checked against the registered backends once plugins are loaded
        # (PluginHost.backend, from MatrixRunner.prepare_plan): a plugin may add backends.
        if not self.tasks:
            raise UsageError("no tasks given: use --tasks name[,name...] (see `tom-harness list`)")
        if not self.interventions:
            raise UsageError("no interventions given: use --interventions none [SPEC ...]")
        values.check_limit(self.limit)  # a spec built in Python, not by build_spec
        if self.repeats < 1:
            raise UsageError(f"--repeats must be at least 1, got {self.repeats}")
        return self

    def identity(self) -> dict[str, Any]:
        # repeats=1 is left out so matrices written before --repeats existed keep their hash
        return {k: getattr(self, k) for k in self._IDENTITY if not (k == "repeats" and self.repeats == 1)}

    def fingerprint(self) -> str:
        return content_key(self.identity())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _where(name: str, source: str) -> str:
    return f"--{name}" if source == "flag" else f"config key {name!r}"


#: option -> how its value is typed (:mod:`tom_harness.api.values`); options not listed pass as given
_TYPING: dict[str, Callable[[Any, str], Any]] = {
    "model_args": values.model_args,
    "gen_kwargs": values.gen_kwargs,
    "tasks": lambda v, where: _dedupe(values.check_names(v, where, "task"), where),
    "include_path": lambda v, where: _dedupe(values.check_names(v, where), where),
    "plugins": lambda v, where: _dedupe(values.check_names(v, where), where),
    "interventions": lambda v, where: _specs(v, where),
    "limit": values.check_limit,
    "seed": lambda v, where: values.check_int(v, where, 0, 2**32 - 1),
    "num_fewshot": values.check_int,
    "bootstrap_iters": values.check_int,
    "repeats": lambda v, where: values.check_int(v, where, 1),
    "batch_size": values.check_batch_size,
    "device": check_device,
    "apply_chat_template": values.check_bool,
    "model": lambda v, where: _string(v, where),
    "system_instruction": lambda v, where: _string(v, where),
}


def _coerce(name: str, value: Any, source: str = "flag") -> Any:
    """One option's value, typed and checked once; errors name the flag or config key."""
    typing = _TYPING.get(name)
    return value if typing is None else typing(value, _where(name, source))


def _specs(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"{where}: expected a list of intervention specs, got {value!r}")
    return list(value)


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise UsageError(f"{where}: expected a string, got {value!r}")
    return value


def _dedupe(names: list[str], where: str) -> list[str]:
    """Duplicates dropped with a note (running a task twice would only cost time)."""
    out = list(dict.fromkeys(names))
    if len(out) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        log.warning("%s: %s given more than once; each runs once", where, ", ".join(dup))
    return out


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a matrix YAML; keys are the ``run`` flag names (model, model_args, tasks, ...)."""
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"--config: no such file {p}")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError as exc:
        raise UsageError(f"--config {p}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"--config {p}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"--config {p}: expected a mapping of run options at top level")
    return data


def build_spec(config: dict[str, Any], overrides: dict[str, Any]) -> MatrixSpec:
    """Merge a config mapping and CLI overrides (CLI wins) into a validated spec."""
    valid = {f.name for f in fields(MatrixSpec)}
    merged: dict[str, Any] = {}
    for origin, source in (("config", config), ("flag", overrides)):
        for key, value in source.items():
            if value is None:
                continue
            if key not in valid:
                hint = closest(str(key), valid)
                raise UsageError(
                    f"matrix config: unknown key {key!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
                )
            merged[key] = _coerce(key, value, origin)
    return MatrixSpec(**merged).validate()

