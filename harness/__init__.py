"""tom-harness: score Theory-of-Mind interventions on lm-eval tasks, every one on every task."""
from __future__ import annotations

__version__ = "0.1.0"

from tom_harness.api.hookspecs import hookimpl  # noqa: E402  (public marker for plugin authors)
from tom_harness.api.intervention import Intervention, PromptEdit, TaskInfo  # noqa: E402
from tom_harness.api.params import Param  # noqa: E402

__all__ = ["hookimpl", "Intervention", "PromptEdit", "TaskInfo", "Param", "__version__"]
