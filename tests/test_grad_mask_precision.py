"""The ToM Fisher map equals the original's full-logits computation, and window sampling draws
no start for a document of exactly ``seqlen`` tokens (as ``create_gradient.py``)."""
from __future__ import annotations

import random

import torch

from tom_harness.plugins.grad_mask.sensitivity import generic_samples, squared_grad_maps
from tom_harness.plugins.grad_mask.targets import find_targets


def _original_maps(model, targets, samples):
    """The released recipe: ``model(input_ids, labels)`` with only the last label kept (full
    logits, HF's own loss), one backward per sample, g**2 summed in float32."""
    params = dict(model.named_parameters())
    ws = [params[t.param] for t in targets]
    total = [torch.zeros(w.shape) for w in ws]
    for ids in samples:
        x = torch.tensor([ids])
        labels = torch.full_like(x, -100)
        labels[0, -1] = x[0, -1]
        grads = torch.autograd.grad(model(input_ids=x, labels=labels).loss, ws)
        for acc, g in zip(total, grads):
            acc += g.float() ** 2
    return {t.param: acc for t, acc in zip(targets, total)}


def test_last_token_map_equals_full_logits_map(tiny_handle):
    """Tolerance: float32 rounding, rtol 1e-6 and atol 1e-7 of each matrix's largest entry (the
    logits_to_keep=2 path this replaces was off by up to 5e-4 relative on SmolLM2)."""
    model = tiny_handle.model
    targets = find_targets(model)
    gen = torch.Generator().manual_seed(3)
    samples = [torch.randint(0, 1000, (n,), generator=gen).tolist() for n in (9, 17, 4, 30)]
    maps, _ = squared_grad_maps(model, targets, samples, last_only=True)
    expected = _original_maps(model, targets, samples)
    for t in targets:
        scale = float(expected[t.param].abs().max())
        assert scale > 0
        torch.testing.assert_close(maps[t.param], expected[t.param], rtol=1e-6, atol=1e-7 * scale)


class _WordTokenizer:
    """One token per whitespace word: document lengths are exact by construction."""

    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": [len(w) for w in text.split()]}


def test_document_of_exactly_seqlen_tokens_takes_start_zero():
    # document 0 has exactly 4 tokens, document 1 has 9. The original draws a document index, then
    # a start only when the document is longer than seqlen; so with seed 5 the stream is:
    # randint(0, 1) for the document, and randint(0, 9 - 4) only for document 1.
    docs = ["a bb ccc dddd", "e ff ggg hhhh iiiii jj kkk llll m"]
    tok = _WordTokenizer()
    got = generic_samples(tok, docs, 6, 4, seed=5)
    rng = random.Random(5)
    expected = []
    for _ in range(6):
        i = rng.randint(0, 1)
        ids = tok(docs[i])["input_ids"]
        start = 0 if len(ids) == 4 else rng.randint(0, len(ids) - 4)
        expected.append(ids[start:start + 4])
    assert got == expected
    assert [1, 2, 3, 4] in got  # document 0 drawn, whole


def test_matrix_sums_memo_is_keyed_by_content():
    """The memo returns exactly the direct sums, and an edited matrix (same shape) misses."""
    from tom_harness.plugins.grad_mask.perturb import _SUMS, clear_sums_memo, matrix_sums

    clear_sums_memo()
    torch.manual_seed(0)
    w = torch.randn(3000)
    direct = (w.sum(dtype=torch.float64), float(w.abs().sum(dtype=torch.float32)))
    first, again = matrix_sums(w[1000:2000]), matrix_sums(w[1000:2000].clone())
    assert len(_SUMS) == 1 and again[0] is first[0]
    assert matrix_sums(w)[0].item() == direct[0].item() and matrix_sums(w)[1] == direct[1]
    w[1500] += 1.0
    edited = matrix_sums(w[1000:2000])
    assert edited[0].item() != first[0].item() and len(_SUMS) == 3
