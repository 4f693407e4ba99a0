"""Offline story generators (ToMi-style, Hi-ToM-style) and an independent who-saw-what simulator.

The generators write stories in the published JSON shapes, so the same task code loads them;
gold answers come from the generators' own plans, and :mod:`.simulator` re-derives them from
the story text alone (the property test compares the two over thousands of stories).
"""
from tom_harness.data.generators.hitom import hitom_stories
from tom_harness.data.generators.simulator import answer, simulate
from tom_harness.data.generators.tomi import tomi_stories

__all__ = ["tomi_stories", "hitom_stories", "simulate", "answer"]
