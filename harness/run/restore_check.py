"""Apply an intervention for one cell, and always undo and verify it, whatever happens.

``remove()`` runs even when ``apply()`` or the evaluation raised half-way, and the model is
checked (bit-identity of every tensor, hook census) before the run goes on *or* stops: a plugin
that fails must not leave a contaminated model for the next row, nor hide that it did.

Checked: every ``weights`` / ``activations`` row, and every row of a third-party plugin whatever
kind it declares (a ``prompts`` plugin that edits weights fails loudly). Built-in ``prompts`` and
``none`` rows never touch the model, so they skip the (~1 s) check.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator

from tom_harness.api.errors import RestoreError
from tom_harness.model.snapshot import diff_snapshots, raise_if_changed, snapshot
from tom_harness.api.intervention import Intervention

if TYPE_CHECKING:  # pragma: no cover
    from tom_harness.api.context import RunContext

BUILTIN_PREFIX = "tom_harness."


def is_builtin(iv: Intervention) -> bool:
    """Shipped with tom-harness (its class lives in the ``tom_harness`` package)."""
    return type(iv).__module__.startswith(BUILTIN_PREFIX) or type(iv).__module__ == "tom_harness"


def needs_check(iv: Intervention) -> bool:
    """Weights/activations rows (a stack: any part), and any row with a third-party part."""
    from tom_harness.host.stack import is_checked

    parts = getattr(iv, "parts", None) or [iv]
    return is_checked(iv) or not all(is_builtin(p) for p in parts)


def check_restored(ctx: "RunContext", baseline: list, label: str) -> dict[str, Any]:
    """Compare the model with ``baseline``; a difference raises RestoreError naming it."""
    t0 = time.time()
    after = ctx.handle.apply_to_model(snapshot)
    reports = [diff_snapshots(b, a) for b, a in zip(baseline, after)]
    for r in reports:
        raise_if_changed(r, label)
    return {"ok": True, "checked_s": round(time.time() - t0, 3),
            "tensors_checked": sum(r["tensors_checked"] for r in reports)}


@contextmanager
def applied(iv: Intervention, ctx: "RunContext", baseline: list | None) -> Iterator[dict[str, Any]]:
    """``with applied(iv, ctx, baseline) as restore:`` run the cell; afterwards ``restore``
    holds the check's report (empty when the row needs none).

    Order on the way out: ``remove()``, ``after_edit()``, then the check. If the check fails,
    its RestoreError wins (it is the more serious fault) and chains the original error.
    """
    restore: dict[str, Any] = {}
    try:
        iv.apply(ctx)
        ctx.handle.after_edit()
        yield restore
    finally:
        try:
            iv.remove(ctx)
        finally:
            ctx.handle.after_edit()
            if baseline is not None and needs_check(iv):
                try:
                    restore.update(check_restored(ctx, baseline, iv.label()))
                except RestoreError as exc:
                    cause = exc.__context__  # the error that stopped the cell, if any
                    if cause is not None and not isinstance(cause, RestoreError):
                        exc.args = (f"{exc.args[0]} (after the cell failed: {type(cause).__name__}: {cause})",)
                    raise
