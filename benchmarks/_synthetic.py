"""A random-initialised Llama of a published shape, with an offline tokenizer and local tasks.

The GPU machine has no network, so no real checkpoint or tokenizer can be fetched there. Costs
(Fisher maps, switches, restore checks, extraction, a cell's overhead) do not depend on the
weights' values, so a random model of the right shape measures them. The tokenizer is a
word-level one whose vocabulary fills the model's, so every generated id decodes.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

SHAPES: dict[str, dict[str, Any]] = {
    # Llama-3.2-1B and Llama-3.1-8B (their config.json values), and a toy for CPU tests.
    "1b": dict(hidden_size=2048, intermediate_size=8192, num_hidden_layers=16, num_attention_heads=32,
               num_key_value_heads=8, vocab_size=128256, tie_word_embeddings=True, rope_theta=500000.0),
    "8b": dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
               num_key_value_heads=8, vocab_size=128256, tie_word_embeddings=False, rope_theta=500000.0),
    "toy": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, vocab_size=2048, tie_word_embeddings=True, rope_theta=10000.0),
}


def story_texts(n: int, seed: int = 0) -> list[str]:
    """Generated ToMi-style stories (the harness's own offline generator): realistic text lengths."""
    from tom_harness.data.generators import tomi_stories

    stories = tomi_stories(max(1, n), seed)
    return [story["narrative"] for story in stories.values()][:n]


def word_tokenizer(texts: list[str], vocab_size: int) -> Any:
    """A fast word-level tokenizer with exactly ``vocab_size`` entries (words first, then fillers)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<unk>", "<s>", "</s>", "<pad>"]
    words = sorted({w for t in texts for w in re.findall(r"\w+|[^\w\s]+", t)})
    vocab = {tok: i for i, tok in enumerate(specials + words)}
    for i in range(len(vocab), vocab_size):
        vocab[f"w{i}"] = i
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()  # the same split as the vocabulary's
    return PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>", bos_token="<s>",
                                   eos_token="</s>", pad_token="<pad>")


def random_llama(shape: str, device: str, dtype: Any, tokenizer: Any, seed: int = 0) -> Any:
    """Build the model directly on ``device`` in ``dtype`` (no fp32 detour for 8B)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(max_position_embeddings=4096, bos_token_id=tokenizer.bos_token_id,
                      eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, **SHAPES[shape])
    torch.manual_seed(seed)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            model = LlamaForCausalLM(cfg)
    finally:
        torch.set_default_dtype(previous)
    return model.eval()


def loglikelihood_task(folder: Path, texts: list[str]) -> str:
    """A two-choice loglikelihood task over ``texts`` (JSON lines read by HF datasets' json builder)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"context": t, "choices": ["yes", "no"], "label": i % 2} for i, t in enumerate(texts)]
    data = folder / "gpu_check_ll.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "gpu_check_ll.yaml").write_text(
        "task: gpu_check_ll\n"
        "dataset_path: json\n"
        f"dataset_kwargs: {{data_files: {{test: {json.dumps(str(data))}}}}}\n"
        "test_split: test\noutput_type: multiple_choice\n"
        'doc_to_text: "{{context}}\\nIs the story consistent?"\n'
        'doc_to_choice: "{{choices}}"\ndoc_to_target: "{{label}}"\n'
        "metric_list:\n  - {metric: acc, aggregation: mean, higher_is_better: true}\n"
        "metadata: {version: 1.0, family: toy, unit: event, question_kind: choice, narrative_in_prompt: true}\n"
    )
    return "gpu_check_ll"
