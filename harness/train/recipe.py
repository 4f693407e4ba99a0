"""A training recipe: every setting that changes the adapter, so its hash can key the cache."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from tom_harness.api.errors import UsageError

METHODS = ("sft", "dpo")


@dataclass(frozen=True)
class Recipe:
    method: str
    seed: int = 0
    max_steps: int = -1
    epochs: float = 1.0
    lr: float = 2e-4
    batch_size: int = 4
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.0
    target_modules: str = "all-linear"
    max_length: int = 1024
    beta: float | None = None
    save_steps: int = 0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise UsageError(f"train: unknown method {self.method!r}; valid: {', '.join(METHODS)}")
        for name in ("batch_size", "lora_r", "lora_alpha", "max_length"):
            if getattr(self, name) < 1:
                raise UsageError(f"train: --{name} must be at least 1, got {getattr(self, name)}")
        if self.max_steps == 0 or (self.max_steps < 0 and self.epochs <= 0):
            raise UsageError("train: give --max_steps N > 0 or --epochs > 0")
        if not 0 <= self.lora_dropout < 1:
            raise UsageError(f"train: --lora_dropout must be in [0, 1), got {self.lora_dropout}")

    def to_dict(self) -> dict[str, Any]:
        """The settings that define the adapter (``save_steps`` only decides checkpoints: left out)."""
        out = asdict(self)
        out.pop("save_steps")
        if self.method != "dpo":
            out.pop("beta")
        return out

    def targets(self) -> str | list[str]:
        names = [t.strip() for t in self.target_modules.split(",") if t.strip()]
        return "all-linear" if names == ["all-linear"] else names

    def lora_config(self) -> Any:
        from peft import LoraConfig

        return LoraConfig(r=self.lora_r, lora_alpha=self.lora_alpha, lora_dropout=self.lora_dropout,
                          target_modules=self.targets(), bias="none", task_type="CAUSAL_LM")
