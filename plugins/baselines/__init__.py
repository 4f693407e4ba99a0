"""Prompting baselines of the EnigmaToM comparison: cot, simtom, percepttom, dwm, timetom.

Each is a ``prompts`` intervention, one module per method; :mod:`.base` holds what they share
(traits required, stories and belief chains, counted preparatory calls). docs/baselines.md says
what each does and how it differs from its paper.
"""
from __future__ import annotations

from tom_harness import hookimpl

from .base import STORY_TASK, PromptBaseline
from .cot import CoT
from .dwm import DWM
from .percepttom import PerceptToM
from .simtom import SimToM
from .timetom import TimeToM

__all__ = ["DWM", "STORY_TASK", "CoT", "PerceptToM", "PromptBaseline", "SimToM", "TimeToM"]


@hookimpl
def register_interventions(register):
    for cls in (CoT, SimToM, PerceptToM, DWM, TimeToM):
        register(cls)
