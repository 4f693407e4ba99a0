"""Strategic-games tasks (Lore et al. 2024): documents, the paper layout, the original parser.

The paper layout and the parser are pinned against independent reimplementations written the
way the original (``mainloop.py``, ``revise_strategies`` in its data notebook) wrote them:
string concatenation through a ``get_prompt`` helper and a ``str.format`` template, and the
if/elif chain over substring tests.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA
from tom_harness.task_yamls.strategic_games import utils

DATA = SHARED_DATA / "strategic_games"


@pytest.fixture(autouse=True)
def _data(shared_data, monkeypatch):
    monkeypatch.setenv("TOM_HARNESS_DATA", str(shared_data))


def original_prompt(context_file: Path, game_file: Path) -> str:
    """mainloop.py's GameRepeat prompt, rebuilt the original's way."""
    B_INST, E_INST = "[INST]", "[/INST]"
    B_SYS, E_SYS = "<>\n", "\n<>\n\n"

    def get_prompt(instruction, new_system_prompt):
        SYSTEM_PROMPT = B_SYS + new_system_prompt + E_SYS
        return B_INST + SYSTEM_PROMPT + instruction + E_INST

    scen = open(context_file).read()
    game = open(game_file).read()
    sys_msg = B_SYS + "Consider the proposed scenario and act as if you were taking part in it. \n" + scen + E_SYS
    cmds = (B_INST + " Respond to the following using exactly one letter to denote your choice. Your answer "
            "must either consist of the letter 'C' for strategy C or 'D' for strategy D." + E_INST)
    template = get_prompt(cmds + "\nUser: {user_input}", sys_msg)
    return template.format(user_input=game)


def original_parse(item: str) -> str:
    """revise_strategies, one item; '' (neither letter) and a non-letter first char are 'other'."""
    if "C" in item and "D" in item:
        out = item[0]
    elif "C" in item:
        out = "C"
    elif "D" in item:
        out = "D"
    else:
        out = ""
    return out if out in ("C", "D") else "other"


def test_splits_have_the_papers_scenarios():
    import json

    ref = json.loads((DATA / "reference" / "choices.json").read_text())["splits"]
    for split, ref_split in (("in_sample", "in_sample"), ("oos_context", "oos_context"), ("ood_game", "ood_game_payoffs_doubled")):
        docs = utils.scenarios(split)
        assert sorted(d["scenario"] for d in docs) == sorted(ref[ref_split]["llama2_70b_chat"])
    assert len(utils.scenarios("in_sample", reasoning=False)) == 20


def test_ood_games_double_every_payoff_and_nothing_else():
    for doc, ood in zip(utils.scenarios("in_sample"), utils.scenarios("ood_game")):
        assert ood["scenario"] == doc["scenario"] + "_d"
        before = [int(n) for n in re.findall(r"\d+", doc["game_text"])]
        after = [int(n) for n in re.findall(r"\d+", ood["game_text"])]
        assert len(before) == 6 and after == [2 * n for n in before]
        assert re.sub(r"\d+", "#", doc["game_text"]) == re.sub(r"\d+", "#", ood["game_text"])
    prison = next(d for d in utils.scenarios("ood_game") if d["scenario"] == "IR_prison_d")["game_text"]
    assert "you will both earn 10 points" in prison and "you will earn 4 points and your coplayer will earn 20" in prison


@pytest.mark.parametrize("split,folder", [("in_sample", "contexts"), ("oos_context", "contexts_oos")])
def test_paper_layout_matches_the_original_item_by_item(split, folder):
    for reasoning, game_dir in ((True, "games"), (False, "games_no_reasoning")):
        for doc in utils.scenarios(split, reasoning):
            want = original_prompt(DATA / folder / f"{doc['context']}.txt", DATA / game_dir / f"{doc['game']}.txt")
            assert utils.paper_prompt(doc) == want
    assert "\r" not in utils.paper_prompt(utils.scenarios("oos_context")[0])  # CRLF files read as text, as the original


def test_chat_layout_is_system_plus_user():
    doc = utils.scenarios("in_sample")[0]
    assert doc["system"].startswith("Consider the proposed scenario") and doc["system"].endswith(doc["context_text"])
    assert utils.doc_to_text(doc).endswith("\nUser: " + doc["game_text"])
    assert "[INST]" not in utils.doc_to_text(doc) + doc["system"]


@pytest.mark.parametrize("text", [
    "C", "D", "  C", "  D", "C. I choose C because D is risky", "D, not C", "I choose C", "I choose D",
    "Considering D", "", "no letter here", "c or d", "  C and D", "Dear coplayer, C", "\nC",
])
def test_parser_matches_the_original(text):
    assert utils.parse_choice(text) == original_parse(text)
    scores = utils.process_results({}, [text])
    assert scores == {f"share_{k}": float(original_parse(text) == v)
                      for k, v in (("c", "C"), ("d", "D"), ("other", "other"))}


def test_unrecorded_repeat_scores_none():
    assert utils.process_results({}, [None]) == {"share_c": None, "share_d": None, "share_other": None}


def test_group_and_traits_load():
    from tom_harness.host.plugin_host import load_host
    from tom_harness.lmeval.tasks import TaskCatalog

    catalog = TaskCatalog.from_sources(load_host().task_sources)
    info = catalog.info("strategic_games")
    assert set(info.subtasks) == {f"sg_{s}{v}" for s in ("in_sample", "oos_context", "ood_game") for v in ("", "_nr")}
    meta = catalog.metadata("sg_in_sample_paper")
    assert meta["doc_key"] == "scenario" and meta["protocol"] == "paper" and meta["headline"] == "share_c"


def test_chat_layout_reaches_the_template_as_system_and_user_turns():
    """--apply_chat_template / --system_instruction through lm-eval: the context is the system
    turn (after the system instruction), the instruction + game the user turn."""
    from tom_harness.host.plugin_host import load_host
    from tom_harness.lmeval.tasks import TaskCatalog

    catalog = TaskCatalog.from_sources(load_host().task_sources)
    task = catalog.manager.load(["sg_oos_context"])["tasks"]["sg_oos_context"]
    doc = task.test_docs()[0]
    seen = []
    task.fewshot_context(doc, 0, system_instruction="Be brief.", apply_chat_template=True,
                         chat_template=lambda msgs, add_generation_prompt=True: seen.append(msgs) or "")
    assert seen == [[{"role": "system", "content": "Be brief.\n\n" + doc["system"]},
                     {"role": "user", "content": doc["user"]}]]
    plain = task.fewshot_context(doc, 0)
    assert plain == doc["system"] + doc["user"]  # no template: lm-eval joins the two turns
