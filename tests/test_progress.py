"""Quiet terminal: lm-eval's repeated warnings are counted and summarised once, notes about what
the harness itself does are dropped, other warnings pass; --verbose shows everything."""
from __future__ import annotations

import logging

import pytest

from tom_harness.lmeval import progress


@pytest.fixture()
def quiet_logs(caplog):
    root = logging.getLogger()
    root.addHandler(caplog.handler)
    progress.setup_terminal(False)
    progress.summary()
    yield caplog
    progress.setup_terminal(True)
    root.removeHandler(caplog.handler)


def test_repeats_are_summarised_and_known_notes_dropped(quiet_logs):
    lm_log = logging.getLogger("lm_eval.evaluator")
    for _ in range(3):
        lm_log.warning("Metrics were not scored on the same number of documents for group tomi")
    lm_log.warning("Passed an already-initialized model through `pretrained`, assuming ...")
    lm_log.warning("something new")
    logging.getLogger("tom_harness").warning("our own chat template warning")
    shown = [r.getMessage() for r in quiet_logs.records]
    assert shown == ["something new", "our own chat template warning"]
    (line,) = progress.summary()
    assert "3x" in line and "Metrics were not scored" in line and "--verbose" in line
    assert progress.summary() == [] and progress.quiet()


def test_verbose_shows_everything(quiet_logs):
    progress.setup_terminal(True)
    logging.getLogger("lm_eval.evaluator").warning("Metrics were not scored on the same number of documents")
    assert len(quiet_logs.records) == 1 and progress.summary() == [] and not progress.quiet()


def test_group_metrics_missing_under_limit_are_summarised(quiet_logs):
    """BigToM --limit 4 reaches one question type, and lm-eval warns once per absent group metric
    (30 lines for bigtom); the quiet terminal shows one summary line instead."""
    group_log = logging.getLogger("lm_eval.api.group")
    for q in ("acc_true_belief", "acc_false_belief", "acc_false_control"):
        group_log.warning("Group 'bigtom': no values found for metric '%s,none' across any tasks.", q)
    assert quiet_logs.records == []
    (line,) = progress.summary()
    assert "3x" in line and "no values found for metric" in line


def test_uneven_metric_counts_name_the_task_and_the_real_cause(quiet_logs):
    """lm-eval warns per *task* when per-type metrics (acc_first_order, ...) were scored on fewer
    items than the task; the summary names those tasks and says why, without blaming groups."""
    log = logging.getLogger("lm_eval.evaluator_utils")
    for task in ("tomi_seed12", "tomi_seed42", "tomi_seed12"):
        log.warning("[%s] Metrics were not scored on the same number of documents (acc,none=4, "
                    "acc_first_order,none=2). Each metric was aggregated over only the documents that produced it", task)
    (line,) = progress.summary()
    assert "3x for tomi_seed12, tomi_seed42:" in line
    assert "per-type metrics" in line and "group" not in line


def test_per_type_metrics_missing_in_some_seed_files_are_summarised(quiet_logs):
    """tomi --limit 4 (measured): one seed file reaches no reality question, and lm-eval warns per
    group metric per cell; the quiet terminal gives one line naming the group and the cause."""
    group_log = logging.getLogger("lm_eval.api.group")
    for metric in ("acc_first_order", "acc_reality", "acc_memory"):
        group_log.warning("Group 'tomi': metric '%s,none' is missing in 1/5 tasks. Missing in: tomi_seed96", metric)
    assert quiet_logs.records == []
    (line,) = progress.summary()
    assert line.startswith("lm-eval said 3x for tomi:") and "is missing in" in line and "table's n" in line
