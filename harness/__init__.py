"""tom-harness: score Theory-of-Mind interventions on lm-eval tasks, every one on every task."""
from __future__ import annotations

__version__ = "0.1.0"

from .hookspecs import hookimpl  # noqa: E402  (public marker for plugin authors)
from .interventions import Intervention, PromptEdit, TaskInfo  # noqa: E402
from .params import Param  # noqa: E402

__all__ = ["hookimpl", "Intervention", "PromptEdit", "TaskInfo", "Param", "__version__"]
