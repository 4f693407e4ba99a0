"""A real run prints no progress bar under --no_progress, and only the cells bar by default.

Bars come from places with no off switch (transformers' GGUF loader, HF ``loglikelihood_rolling``
with ``disable_tqdm=False`` hard-coded, lm-eval's per-document bar), so the run covers a
generation task and a perplexity task, and a bar a library makes on its own is checked directly.
"""
from __future__ import annotations

import re

import pytest

from tom_harness.lmeval import progress
from tom_harness.cli.main import main

#: what a drawn tqdm frame contains: "  40%|####      | 2/5 [00:01<00:01,  1.50it/s]"
BAR = re.compile(r"\d+%\||\d+/\d+ \[\d")


@pytest.fixture()
def quiet():
    progress.setup_terminal(False)
    yield
    progress.setup_terminal(True)
    progress.summary()


def frames(err: str) -> list[str]:
    return [f.strip() for f in re.split(r"[\r\n]", err) if BAR.search(f)]


def run(tiny_model_dir, out, *extra: str) -> int:
    return main(["run", "--model", "hf", "--model_args", f"pretrained={tiny_model_dir}",
                 "--interventions", "none", "--limit", "2", "--gen_kwargs", "max_gen_toks=4",
                 "--output_path", str(out), *extra])


def test_no_progress_prints_no_bar(tiny_model_dir, tmp_path, capfd, caplog):
    code = run(tiny_model_dir, tmp_path / "o", "--tasks", "tomi_seed12,wikitext2_ppl", "--no_progress")
    err = capfd.readouterr().err
    assert code == 0
    assert frames(err) == []
    # lm-eval says this once per cell; it is summarised at the end instead
    shown = [r.getMessage() for r in caplog.records]
    assert not [m for m in shown if "specified through cli" in m and "lm-eval said" not in m]
    assert any("lm-eval said 2x: 'generation_kwargs ... specified through cli" in m for m in shown)


def test_default_shows_only_the_cells_bar(tiny_model_dir, tmp_path, capfd):
    assert run(tiny_model_dir, tmp_path / "o", "--tasks", "tomi_seed12") == 0
    shown = frames(capfd.readouterr().err)
    assert shown and all(f.startswith("cells") for f in shown), shown


def test_a_library_bar_is_off_unless_verbose(quiet, capfd):
    from tqdm.auto import tqdm

    list(tqdm(range(3), desc="Converting and de-quantizing GGUF tensors..."))
    list(tqdm(range(3), "positional", 3, True, None, None, 0.1, 10.0, 0, None, False))  # disable=False
    assert frames(capfd.readouterr().err) == []
    list(progress.bar(range(3), enabled=True, desc="cells"))
    assert frames(capfd.readouterr().err)[-1].startswith("cells")
    progress.setup_terminal(True)
    list(tqdm(range(3), desc="library"))
    assert any(f.startswith("library") for f in frames(capfd.readouterr().err))


def test_a_quiet_bar_still_keeps_time(quiet, capfd):
    """vLLM's generate divides by its bar's elapsed seconds: a silenced bar must not report 0
    (the ZeroDivisionError of quiet ``--model vllm`` runs)."""
    import time

    from tqdm.auto import tqdm

    bar = tqdm(total=2, desc="Processed prompts")
    time.sleep(0.01)
    bar.update(1)
    assert bar.format_dict["elapsed"] > 0
    bar.close()
    assert tqdm(total=1, disable=True).disable  # a caller's own choice is kept
    assert frames(capfd.readouterr().err) == []
