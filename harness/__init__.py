"""tom-harness: score Theory-of-Mind interventions on lm-eval tasks, every one on every task.

This package is the public API for plugin, backend and task authors (docs/api.md lists every
name): the contract layer :mod:`tom_harness.api` (imported here), the data access functions, and
the helpers of the layers below the runner that the built-in plugins use: model surgery,
activations, localizer stimuli, story helpers, story generators, the artifact cache. Those pull in
torch, so they are imported on first use (``from tom_harness import extract`` works as usual).

Importing the package also gives the contract layer the defaults it may not import itself
(:func:`tom_harness.api.use_defaults`): data files come from the data roots, and a model handle
built without ``fingerprint=`` is hashed with :func:`tom_harness.model.snapshot.model_fingerprint`.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from tom_harness.api import *  # noqa: E402,F401,F403  (the contract layer, all of it)
from tom_harness.api import __all__ as _API
from tom_harness.api import use_defaults
from tom_harness.data.roots import DataRoots, data_dir, data_file, find_dir  # noqa: E402
from tom_harness.data.roots import roots as data_roots  # noqa: E402

#: name -> module of the helpers imported on first use (they import torch or numpy)
_LAZY: dict[str, str] = {
    **dict.fromkeys(("ROLE_ORDER", "RemoveStreamHooks", "StreamHooks", "Target", "block_hidden", "block_list",
                     "is_linear", "keep", "layout",
                     "locate_weight", "release", "replace_hidden", "residual_hook", "role_for", "role_rank",
                     "target_linears"), "tom_harness.model.surgery"),
    **dict.fromkeys(("POOLINGS", "Activations", "decoder_blocks", "extract", "tokenize"), "tom_harness.model.activations"),
    **dict.fromkeys(("NETWORKS", "WORDINGS", "Stimuli", "load_stimuli"), "tom_harness.data.stimuli"),
    **dict.fromkeys(("Story", "add_counts", "belief_chain", "docs_from_file", "find_characters", "ratio",
                     "split_events", "stories_from_docs", "story_key"), "tom_harness.data.stories"),
    **dict.fromkeys(("hitom_stories", "tomi_stories"), "tom_harness.data.generators"),
    **dict.fromkeys(("intervention_id",), "tom_harness.results.outdir"),
    **dict.fromkeys(("ArtifactCache", "Fetched", "content_key", "file_sha256", "files_fingerprint", "remember"),
                    "tom_harness.cache.artifacts"),
}

#: modules exported whole, imported on first use
_LAZY_MODULES: dict[str, str] = {"surgery": "tom_harness.model.surgery"}

__all__ = sorted({*_API, *_LAZY, *_LAZY_MODULES, "DataRoots", "data_dir", "data_file", "data_roots", "find_dir", "__version__"})


def __getattr__(name: str) -> Any:
    """Import a lazy helper on first use (PEP 562) and keep it as a module attribute."""
    if name in _LAZY_MODULES:
        value: Any = importlib.import_module(_LAZY_MODULES[name])
    elif name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    else:
        raise AttributeError(f"module 'tom_harness' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_LAZY_MODULES))


def _model_fingerprint(module: Any) -> str:
    from tom_harness.model.snapshot import model_fingerprint

    return model_fingerprint(module)


use_defaults(data=DataRoots(), fingerprint=_model_fingerprint)

if TYPE_CHECKING:  # pragma: no cover - what the lazy names are, for readers and type checkers
    from tom_harness.cache.artifacts import (  # noqa: F401
        ArtifactCache, Fetched, content_key, file_sha256, files_fingerprint, remember,
    )
    from tom_harness.data.generators import hitom_stories, tomi_stories  # noqa: F401
    from tom_harness.data.stimuli import NETWORKS, WORDINGS, Stimuli, load_stimuli  # noqa: F401
    from tom_harness.data.stories import (  # noqa: F401
        Story, add_counts, belief_chain, docs_from_file, find_characters, ratio, split_events, stories_from_docs,
        story_key,
    )
    from tom_harness.model import surgery  # noqa: F401
    from tom_harness.results.outdir import intervention_id  # noqa: F401
    from tom_harness.model.activations import POOLINGS, Activations, decoder_blocks, extract, tokenize  # noqa: F401
    from tom_harness.model.surgery import (  # noqa: F401
        ROLE_ORDER, RemoveStreamHooks, StreamHooks, Target, block_hidden, block_list, is_linear, keep, layout,
        locate_weight, release, replace_hidden, residual_hook, role_for, role_rank, target_linears,
    )
