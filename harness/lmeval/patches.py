"""The harness's changes to lm-eval's module functions, installed once per process and undone.

lm-eval has no hooks for two things the harness needs around ``simple_evaluate``:

* ``lm_eval.evaluator.get_git_commit_hash`` runs ``git`` and lets it print "fatal: not a git
  repository" on every call outside a checkout (once per matrix cell); :func:`quiet_git_hash`
  gives the same value without the noise;
* ``lm_eval.evaluator.evaluate`` is where lm-eval hands the model the options that shape its
  requests (``apply_chat_template``, ``system_instruction``) and gets the results back before it
  prints and saves them. The wrapper tells a model that defines ``evaluation_starts(options)`` /
  ``evaluation_ends(results)`` (the ``tomh`` model type does: its model calls render prompts as the
  run's do, and its results go through the host's result processors). Other models are untouched.

:func:`install` replaces both (idempotent) and registers :func:`restore` with ``atexit``;
:func:`patched` does the same for a ``with`` block and restores on leaving it if it installed them.
"""
from __future__ import annotations

import atexit
import contextlib
import functools
import subprocess
from typing import Any, Callable, Iterator

#: (module, attribute) -> the original object, while installed
_originals: dict[tuple[Any, str], Any] = {}
_state = {"atexit": False}


def quiet_git_hash() -> str | None:
    """lm-eval's git hash of the working directory, with git's stderr dropped."""
    try:
        return subprocess.check_output(["git", "describe", "--always"], stderr=subprocess.DEVNULL).strip().decode()
    except (OSError, subprocess.CalledProcessError):
        return None


def _evaluate_wrapper(inner: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(inner)
    def evaluate(*args: Any, **kwargs: Any) -> Any:
        lm = kwargs.get("lm", args[0] if args else None)
        starts = _own_method(lm, "evaluation_starts")
        if starts is not None:
            starts({"apply_chat_template": kwargs.get("apply_chat_template", False),
                    "system_instruction": kwargs.get("system_instruction")})
        results = inner(*args, **kwargs)
        ends = _own_method(lm, "evaluation_ends")
        if ends is not None and results:
            ends(results)
        return results

    return evaluate


def _own_method(lm: Any, name: str) -> Callable | None:
    """``lm.<name>`` if its class defines it (not found through a forwarding ``__getattr__``)."""
    return getattr(lm, name) if any(name in vars(c) for c in type(lm).__mro__) else None


def installed() -> bool:
    return bool(_originals)


def install() -> None:
    """Replace lm-eval's functions (once per process; later calls do nothing)."""
    if _originals:
        return
    import lm_eval.evaluator as ev

    _originals[(ev, "get_git_commit_hash")] = ev.get_git_commit_hash
    _originals[(ev, "evaluate")] = ev.evaluate
    ev.get_git_commit_hash = quiet_git_hash
    ev.evaluate = _evaluate_wrapper(ev.evaluate)
    if not _state["atexit"]:
        atexit.register(restore)
        _state["atexit"] = True


def restore() -> None:
    """Put lm-eval's own functions back (nothing to do if not installed)."""
    while _originals:
        (module, attr), original = _originals.popitem()
        setattr(module, attr, original)


@contextlib.contextmanager
def patched() -> Iterator[None]:
    """Installed inside the block; restored on leaving it unless it was installed before."""
    mine = not installed()
    install()
    try:
        yield
    finally:
        if mine:
            restore()
