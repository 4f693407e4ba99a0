"""The contract every plugin, backend and task author builds on: hooks, interventions, parameters,
traits, the run context and model handle, the document contract, errors.

Lowest layer: it imports nothing else of the project (setup.cfg's import-linter contracts). The
package ``tom_harness`` re-exports all of it, plus the helpers of the layers above (surgery,
activations, stimuli, stories, cache, data access); docs/api.md lists every name.
"""
from tom_harness.api.context import BackendHooks, DataAccess, ModelHandle, RunContext, use_defaults
from tom_harness.api.doc_contract import GOLD_FIELDS, STORY_FIELDS, TEXT_FIELDS, DocContractError, Field, validate
from tom_harness.api.errors import (
    DataMissingError, LockedError, PluginError, RestoreError, UsageError, closest, unknown,
)
from tom_harness.api.hookspecs import hookimpl
from tom_harness.api.intervention import KINDS, Intervention, NoIntervention, PromptEdit, TaskInfo
from tom_harness.api.params import Param, expand, format_value, parse_spec
from tom_harness.api.traits import ASKED, STORY_UNITS, TRAITS, describe, mismatch

__all__ = [
    "ASKED", "GOLD_FIELDS", "KINDS", "STORY_FIELDS", "STORY_UNITS", "TEXT_FIELDS", "TRAITS",
    "BackendHooks", "DataAccess", "DataMissingError", "DocContractError", "Field", "Intervention", "LockedError",
    "ModelHandle", "NoIntervention", "Param", "PluginError", "PromptEdit", "RestoreError", "RunContext", "TaskInfo",
    "UsageError", "closest", "describe", "expand", "format_value", "hookimpl", "mismatch", "parse_spec", "unknown",
    "use_defaults", "validate",
]
