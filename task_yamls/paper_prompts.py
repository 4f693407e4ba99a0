"""EnigmaToM's own evaluation prompts, read from its templates and filled as its code fills them.

The templates are data (``<data>/enigma_prompts/``, registry entry ``enigma_prompts``: the
original repository's ``src/prompts/*.yaml`` and ``src/configs/*.yml`` at eb8b8b5), never text in
this code. What is code here is the filling: which slot gets which field, the option formats
(ToMi's " Choose one of the following options: ['a', 'b']" suffix, Hi-ToM's lettered lines,
FANToM's ``["yes", "no"]`` and name-list lines) and the question each method asks. The ``*_paper``
tasks render their prompt with :func:`vanilla_prompt`; the faithful comparison methods
(``plugins/baselines``) build theirs from the same pieces. docs/baselines.md lists what the
original does that cannot be reproduced.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from tom_harness import data_file
from tom_harness.api import DataMissingError
from .answers import LETTERS

#: the file of the evaluation prompts the original's ``run_exps.py`` loads
EVAL_PROMPTS = "eval_prompt_3_0.yaml"
#: datasets the original's ``dataset_eval_config.yml`` has an evaluation method for, among ours
PAPER_DATASETS = ("tomi", "hitom", "fantom")


@lru_cache(maxsize=None)
def template_file(name: str) -> Any:
    """A parsed file of ``<data>/enigma_prompts/`` (``tom-harness data fetch enigma_prompts``)."""
    import yaml

    path = Path(data_file("enigma_prompts", name))
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DataMissingError(f"unreadable template file {path} ({exc}); re-download it with "
                               "`tom-harness data fetch enigma_prompts`") from exc


def eval_config(dataset: str) -> dict[str, Any]:
    """The original's evaluation method, option keys and delimiter for ``dataset``."""
    return template_file("dataset_eval_config.yml")[dataset]


def eval_template(dataset: str, key: str, masktom: bool = False) -> Any:
    """``eval_prompt_3_0.yaml`` → [eval method] → [original | masktom] → ``key``."""
    bank = template_file(EVAL_PROMPTS)[eval_config(dataset)["eval_method"]]
    return bank["masktom" if masktom else "original"][key]


def method_template(name: str, key: str) -> Any:
    """A prompt (or bank) of a baseline's own file (``dwm.yaml``, ``percepttom.yaml``, ``timetom.yaml``)."""
    return template_file(name)[key]


def fill(template: str, slots: Sequence[tuple[str, str]]) -> str:
    """Replace ``{{name}}`` slots in the given order (the original chains ``str.replace``)."""
    for name, value in slots:
        template = template.replace("{{" + name + "}}", value)
    return template


def family(doc: dict) -> str:
    """``tomi`` / ``hitom`` / ``fantom`` from the doc's dataset (``tomi_gen`` → ``tomi``)."""
    return str(doc.get("dataset") or "").split("_")[0]


def lettered(options: Sequence[str]) -> str:
    """``A. x\nB. y`` (one option per line)."""
    return "\n".join(f"{LETTERS[i]}. {o}" for i, o in enumerate(options))


def free_form_question(doc: dict, reduced: bool = False) -> str:
    """ToMi: the question with the containers appended as a Python list."""
    q = str(doc["reduced_question"] if reduced else doc["question"])
    containers = list(doc.get("containers") or [])
    return f"{q} Choose one of the following options: {containers}" if containers else q


def choices_block(doc: dict, fantom_formats: bool = True) -> str:
    """The ``{{multiple choice}}`` slot. FANToM yes/no: ``["yes", "no"]``; FANToM lists: the
    names as a Python list (the original printed a ``set``: its order is not reproducible, ours
    is sorted); otherwise the shuffled options, lettered. ``fantom_formats=False`` is the
    original's SimToM fallback, which called the option builder without the dataset name: every
    FANToM question then gets its shuffled (correct, wrong) pair lettered."""
    if family(doc) == "fantom":
        kind = str(doc["type"])
        if not fantom_formats:
            return lettered(list(doc["pair"]))
        if kind.endswith("_binary"):
            return '["yes", "no"]'
        if kind.endswith("_list"):
            return str(list(doc["choices"]))
    return lettered(list(doc["choices"]))


def vanilla_prompt(doc: dict, narrative: str | None = None, key: str = "vanilla-text") -> str:
    """The original's single-turn evaluation prompt (``make_prompts``, non-masking branch)."""
    ds = family(doc)
    story = str(doc["narrative"] if narrative is None else narrative)
    template = eval_template(ds, key)
    if eval_config(ds)["eval_method"] == "free-form":
        return fill(template, [("narrative", story), ("question", free_form_question(doc))])
    return fill(template, [("narrative", story), ("question", str(doc["question"])),
                           ("multiple choice", choices_block(doc))])


def perspective_sentence(perspective: str) -> str:
    """The masking template's sentence naming whose perspective the narrative depicts ("The
    narrative provided above depicts …."), cut from the original's ``masktom`` vanilla-text
    template and filled."""
    template = template_file(EVAL_PROMPTS)["free-form"]["masktom"]["vanilla-text"]
    sentence = template.split("{{narrative}}\n\n", 1)[1].split("{{character perspective}}", 1)
    return fill(sentence[0] + "{{character perspective}}" + sentence[1].split(" ", 1)[0],
                [("character perspective", perspective)])


def user(content: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": content}]
