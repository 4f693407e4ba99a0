"""Built-in plugin ``grad_mask``: gradient-sensitive (Fisher) masking of ToM-sensitive weights.

Wu et al. (2025), "How large language models encode theory-of-mind: a study on sparse parameter
patterns". See docs/grad_mask.md for the method, parameters and deviations from the paper.
"""
from tom_harness import hookimpl

from .intervention import GradMask
from .report import write_reports


@hookimpl
def register_interventions(register):
    register(GradMask)


@hookimpl
def register_report_writers(register):
    register("grad_mask", write_reports)
