"""``MatrixSpec``: what one ``tom-harness run`` evaluates, from CLI flags and/or a matrix YAML."""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from tom_harness.cache.artifacts import content_key
from tom_harness.api.errors import UsageError, closest
from tom_harness.spec.kvargs import parse_kv
from tom_harness.spec.option_checks import (
    MODEL_ARG_STR_KEYS, check_batch_size, check_bool, check_device, check_gen_kwargs, check_int,
    check_limit, check_model_args, check_names,
)

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
        check_limit(self.limit)
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


def _coerce(name: str, value: Any, source: str = "flag") -> Any:
    """One option's value, typed and checked; errors name the flag or config key."""
    where = _where(name, source)
    if name == "model_args":
        if isinstance(value, dict):
            return check_model_args(value, where)
        return check_model_args(parse_kv(value, where, keep_str=MODEL_ARG_STR_KEYS), where)
    if name == "gen_kwargs":
        return check_gen_kwargs(parse_kv(value, where), where)
    if name in ("tasks", "include_path", "plugins"):
        return _dedupe(check_names(value, where, "task" if name == "tasks" else "name"), where)
    if name == "interventions":
        if isinstance(value, str):
            return [value]
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise UsageError(f"{where}: expected a list of intervention specs, got {value!r}")
        return list(value)
    if name == "limit":
        return check_limit(value, where)
    if name == "seed":
        return check_int(value, where, 0, 2**32 - 1)
    if name in ("num_fewshot", "bootstrap_iters"):
        return check_int(value, where, 0)
    if name == "repeats":
        n = check_int(value, where, 0)
        if n is not None and n < 1:
            raise UsageError(f"{where} must be at least 1, got {value!r}")
        return n
    if name == "batch_size":
        return check_batch_size(value, where)
    if name == "device":
        return check_device(value, where)
    if name == "apply_chat_template":
        return check_bool(value, where)
    if name in ("model", "system_instruction") and not isinstance(value, str):
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

