"""One TRL training run (SFTTrainer or DPOTrainer with a peft LoRA config) on a loaded model.

Reproducible on CPU: the seed is set before peft initialises the LoRA weights and is TRL's
shuffling and dropout seed. Resumable: checkpoints go to a work folder keyed by the adapter's
content hash, and a rerun after a kill resumes from the last one (optimizer, scheduler and RNG
states included). The terminal shows one bar (the harness's, :func:`progress.bar`); TRL's own
bars and logs are off.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tom_harness.lmeval import progress
from tom_harness.train.data import TrainData
from tom_harness.train.recipe import Recipe


@dataclass
class Trained:
    peft_model: Any
    log_history: list[dict] = field(default_factory=list)
    steps: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    resumed_from: str | None = None


def _bar_callback(enabled: bool) -> Any:
    from transformers import TrainerCallback

    class Bar(TrainerCallback):
        """The one progress bar: steps done, the last logged loss."""

        bar: Any = None

        def on_train_begin(self, args, state, control, **kwargs):
            self.bar = progress.bar(None, enabled=enabled, total=state.max_steps, initial=state.global_step,
                                    desc="train", unit="step")

        def on_step_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.update(state.global_step - self.bar.n)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if self.bar is not None and logs and "loss" in logs:
                self.bar.set_postfix_str(f"loss {logs['loss']:.4f}")

        def on_train_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.close()

    return Bar()


def _steps(recipe: Recipe, n_rows: int) -> int:
    if recipe.max_steps > 0:
        return recipe.max_steps
    return max(1, math.ceil(recipe.epochs * math.ceil(n_rows / recipe.batch_size)))


def config(recipe: Recipe, work: Path, n_rows: int, use_cpu: bool) -> Any:
    """TRL's SFTConfig / DPOConfig for the recipe (CPU-friendly, no reporting, no TRL bars)."""
    from trl import DPOConfig, SFTConfig

    steps = _steps(recipe, n_rows)
    common = dict(
        output_dir=str(work), max_steps=steps, per_device_train_batch_size=recipe.batch_size,
        gradient_accumulation_steps=1, learning_rate=recipe.lr, seed=recipe.seed, data_seed=recipe.seed,
        logging_steps=1, save_strategy="steps", save_steps=recipe.save_steps or max(1, steps // 4),
        save_total_limit=2, report_to="none", disable_tqdm=True, use_cpu=use_cpu, gradient_checkpointing=False,
        bf16=False, fp16=False, optim="adamw_torch", max_length=recipe.max_length, dataloader_num_workers=0,
        lr_scheduler_type="linear", warmup_steps=0,
    )
    if recipe.method == "dpo":
        return DPOConfig(beta=recipe.beta if recipe.beta is not None else 0.1, **common)
    return SFTConfig(packing=False, **common)


def last_checkpoint(work: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(work)) if work.is_dir() else None


def unpacked_gguf(model: Any) -> None:
    """A GGUF checkpoint that transformers unpacked to float weights at load (CPU: no GGUF matmul
    kernel) still carries its GGUF quantizer, which the Trainer refuses to train on. Its weights
    are plain float tensors, so the marker is dropped (weights untouched); a model still holding
    packed GGUF blocks keeps it, and the Trainer's own error says why."""
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is None or "gguf" not in str(quantizer.quantization_config.quant_method).lower():
        return
    packed = any("gguf" in type(m).__name__.lower() for m in model.modules())
    if not packed and all(p.dtype.is_floating_point for p in model.parameters()):
        quantizer.remove_quantization_config(model)


def train(model: Any, tokenizer: Any, data: TrainData, recipe: Recipe, work: Path, show_progress: bool) -> Trained:
    """Train a LoRA adapter on ``model`` (wrapped in place by peft) and return it with its log."""
    import datasets
    import torch
    from transformers import set_seed
    from trl import DPOTrainer, SFTTrainer

    unpacked_gguf(model)
    set_seed(recipe.seed)
    use_cpu = next(model.parameters()).device.type == "cpu"
    args = config(recipe, work, len(data.rows), use_cpu)
    dataset = datasets.Dataset.from_list(data.rows)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    kind = DPOTrainer if recipe.method == "dpo" else SFTTrainer
    trainer = kind(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                   peft_config=recipe.lora_config(), callbacks=[_bar_callback(show_progress)])
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    for own in (PrinterCallback, ProgressCallback):  # the harness's bar replaces TRL's bars and prints
        trainer.remove_callback(own)
    resume = last_checkpoint(work)
    wall, cpu = time.perf_counter(), time.process_time()
    with torch.enable_grad():
        trainer.train(resume_from_checkpoint=resume)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    history = [dict(h) for h in trainer.state.log_history]
    return Trained(trainer.model, history, int(trainer.state.global_step), wall, cpu, resume)
