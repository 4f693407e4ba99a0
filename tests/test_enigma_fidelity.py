"""EnigmaToM masking and injection on hand-checked seed-12 stories (nkb=cache, nkb=rules).

Expected event lists were worked out by reading the stories and the cached Enigma location
vectors by hand (see the comments), not by running the code.
"""
from __future__ import annotations

import types

import pytest

from tom_harness.cache.artifacts import ArtifactCache
from tom_harness.backends.caller import CallStats
from tom_harness.task_yamls import TASK_DIR
from tom_harness.lmeval.tasks import info_from_yaml
from tom_harness.plugins.enigma import Enigma
from tom_harness.plugins.enigma.injection import inject, state_sentence
from tom_harness.plugins.enigma.masking import group_events, mask
from tom_harness.data.stories import belief_chain, docs_from_file, split_events


@pytest.fixture()
def fake_ctx(shared_data, tmp_path):
    """Enough context for the cache and rules knowledge bases (they never call a model)."""
    return types.SimpleNamespace(data_root=shared_data, caller=types.SimpleNamespace(stats=CallStats()),
                                 cache=ArtifactCache(tmp_path / "art"))


def edits_for(shared_data, ctx, dataset, story_id, **params):
    docs = docs_from_file(str(shared_data / dataset / f"{dataset}_seed12.json"), dataset, 12, [story_id])
    iv = Enigma(**params)
    edits = iv.edit_prompts(docs, info_from_yaml(TASK_DIR / dataset / f"{dataset}_seed12.yaml"), ctx)
    return {d["question"]: e for d, e in zip(docs, edits)}, iv


def events_of(edit):
    """The event sentences of a rendered text narrative (header and footer removed)."""
    body = edit.narrative.split("\n\n")
    return [b for b in body if not b.startswith(("The following events", "The narrative provided"))]


# ToMi 4391668758: Isabella enters the cellar (event 5), sees the turnip put in the crate (6, 7),
# leaves (8) before Mason moves it to the bottle (9). Enigma's cached vector for Isabella:
# cellar after events 5-7 only. Her view is events 5-7; the right answer (crate) follows.
ISABELLA = ["Isabella entered the cellar.", "The turnip is in the crate.", "The crate is in the cellar."]


@pytest.mark.parametrize("faithful", [True, False])
def test_tomi_character_leaves_before_move(shared_data, fake_ctx, faithful):
    edits, iv = edits_for(shared_data, fake_ctx, "tomi", "4391668758", nkb="cache", mode="im", faithful=faithful)
    edit = edits["Where will Isabella look for the turnip?"]
    assert events_of(edit) == ISABELLA
    assert edit.info["chain"] == ["Isabella"]
    assert edit.question == "Where will Isabella look for the turnip at the end of the story?"  # data field
    assert edit.narrative.startswith("The following events are known to Isabella\n\n")
    assert edit.narrative.endswith("The narrative provided above depicts Isabella's perspective.")
    # a question naming nobody sees the whole story
    assert len(events_of(edits["Where was the turnip at the beginning?"])) == 10
    assert iv.metadata["kb_calls"] == 0 and iv.metadata["questions"] == 2


def test_tomi_injection_matches_paper_example(shared_data, fake_ctx):
    """ToMi 5277587161 is the spec's printed example (NER missed Abigail, so the chain is Emily)."""
    edits, _ = edits_for(shared_data, fake_ctx, "tomi", "5277587161", nkb="cache", faithful=True)
    edit = edits["Where does Emily think that Abigail searches for the t-shirt?"]
    lines = events_of(edit)
    assert lines[0] == "Emily entered the crawlspace."
    assert lines[1] == ("The t-shirt is in the cupboard. Location of cupboard becomes in crawlspace. "
                        "Location of tshirt becomes in cupboard.")
    assert ("Emily moved the t-shirt to the basket. Location of basket becomes in cupboard. "
            "Location of tshirt becomes in basket.") in lines
    # event 5 repeats "tshirt in cupboard": dropped, so it carries no state
    assert "The cupboard is in the crawlspace." in lines
    assert edit.info["chain"] == ["Emily"]


# HiToM 1080100697, "Where does Chloe think Sophia thinks the corn is?" (gold: green crate).
# Chain Chloe -> Sophia. Cached Enigma vectors: Chloe in the crawlspace after events 1-8, Sophia
# after events 1-10. The cached event rooms label the exits "waiting room"; those exits name the
# crawlspace, so they move back to it. Jointly witnessed: events 1-8. Sophia's move (10) is
# masked. The final "entered the waiting room" (14) is in a room neither vector ever names:
# the original keeps it (quirk), the fixed rule masks it.
CHLOE_SOPHIA = [
    "Owen, Ella, Chloe, Sophia and Noah entered the crawlspace.",
    "The corn is in the green crate.",
    "Owen made no movements and stayed in the crawlspace for 1 minute.",
    "Owen exited the crawlspace.",
    "Ella made no movements and stayed in the crawlspace for 1 minute.",
    "Ella exited the crawlspace.",
    "Chloe made no movements and stayed in the crawlspace for 1 minute.",
    "Ella dislikes the corn.",
]
FINAL = "Owen, Ella, Chloe, Sophia and Noah entered the waiting room."


@pytest.mark.parametrize("faithful,expected", [(True, CHLOE_SOPHIA + [FINAL]), (False, CHLOE_SOPHIA)])
def test_hitom_second_order_chain(shared_data, fake_ctx, faithful, expected):
    edits, _ = edits_for(shared_data, fake_ctx, "hitom", "1080100697", nkb="cache", mode="im", faithful=faithful)
    edit = edits["Where does Chloe think Sophia thinks the corn is?"]
    assert edit.info["chain"] == ["Chloe", "Sophia"]
    assert events_of(edit) == expected
    assert edit.question == "Where is the corn at the end of the story?"
    assert edit.narrative.endswith("depicts Sophia's perspective.")


# FANToM 3019024262: Gianna leaves after line 1 and is back at line 7; she misses lines 2-6.
# Enigma's cached vector marks her in the conversation from line 7 on.
GIANNA_FROM = 6


@pytest.mark.parametrize("faithful", [True, False])
def test_fantom_missed_conversation(shared_data, fake_ctx, faithful):
    edits, _ = edits_for(shared_data, fake_ctx, "fantom", "3019024262", nkb="cache", mode="im", faithful=faithful)
    doc = docs_from_file(str(shared_data / "fantom" / "fantom_seed12.json"), "fantom", 12, ["3019024262"])[0]
    lines = split_events(doc["narrative"], True)
    assert lines[GIANNA_FROM].startswith("Gianna: Hey guys, I'm back")
    q = "What does Gianna believe about who discussed their experiences training their pets, Bruno and Snowflake?"
    kept = events_of(edits[q])
    expected = lines[GIANNA_FROM:]
    if faithful:  # the original appended ' ' to the story, then '.' to every line ("Take care!.")
        expected = [ln + "." for ln in expected[:-1]] + [expected[-1] + " ."]
    assert kept == expected
    assert not any(ln.startswith("Sara: So Javier") for ln in kept)
    info_q = ("Information: Javier's pet Bruno and Sara's pet Snowflake were being discussed.\n"
              "Does Gianna know the aforementioned information?")
    # faithful reads believers from the whole question, including the fact line
    assert edits[info_q].info["chain"] == (["Javier", "Sara", "Gianna"] if faithful else ["Gianna"])


def test_rules_kb_second_order_tomi(shared_data, fake_ctx):
    """Rules find Abigail (NER in the cache missed her): Emily and Abigail both saw events 3-5."""
    edits, iv = edits_for(shared_data, fake_ctx, "tomi", "5277587161", nkb="rules")
    edit = edits["Where does Emily think that Abigail searches for the t-shirt?"]
    assert edit.info["chain"] == ["Emily", "Abigail"]
    assert events_of(edit) == [
        "Emily entered the crawlspace.",
        "The t-shirt is in the cupboard. Location of t-shirt becomes in cupboard.",
        "The cupboard is in the crawlspace.",
    ]
    assert iv.metadata["kb_calls"] == 0


def test_rules_kb_hitom_full_chain(shared_data, fake_ctx):
    """HiToM 7992678198: Hannah leaves at event 11, Jacob at 13, and both enter the waiting room
    at 14: together they saw events 1-10 and 14."""
    edits, _ = edits_for(shared_data, fake_ctx, "hitom", "7992678198", nkb="rules", mode="im")
    edit = edits["Where does Hannah think Jacob thinks the tomato is?"]
    assert edit.info["kept_events"] == list(range(10)) + [13]
    assert edit.info["chain"] == ["Hannah", "Jacob"]


def test_injection_repeats_and_the_quirk():
    states = [
        {"location of underclothes": [["underclothes", "Location", "in box"]]},
        {"location of underclothes": [["underclothes", "Location", "in box"]], "coat": [["", "Coat", "dirty"]]},
        {"location of underclothes": []},
        {"location of underclothes": [["underclothes", "Location", "in box"]]},
    ]
    fixed = inject(states, attributes=True, faithful=False)
    assert fixed == [[["underclothes", "location", "in box"]], [["", "coat", "dirty"]], [], []]
    faithful = inject(states, attributes=True, faithful=True)
    # plain 'coat' dropped in attribute mode; the key's "the" cut out of "underclothes"; event 4
    # compared with the previous non-empty stamp (event 2, where the entity was also reported)
    assert faithful == [[["underclos", "Location", "in box"]], [], [], []]
    assert state_sentence(["tshirt", "Location", "In Cupboard"]) == "Location of tshirt becomes in cupboard"


def test_masking_quirks_never_occupied_room():
    texts = ["A entered the hall.", "B entered the den.", "B moved the ball to the box."]
    groups = group_events(texts, ["hall", "den", "den"], ["hall", "den"], False, True)
    locs = {"A": ["hall", "hall", "hall"]}
    assert sorted(i for v in mask(groups, ["A"], locs, False, True).values() for i in v) == [0, 1, 2]
    fixed_groups = group_events(texts, ["hall", "den", "den"], ["hall", "den"], False, False, {"hall", "den"})
    assert sorted(i for v in mask(fixed_groups, ["A"], locs, False, False).values() for i in v) == [0]
    assert belief_chain("Where does Ann think that Bo searches for the cup?", ["Bo", "Ann"], True) == ["Ann", "Bo"]


# -- rules knowledge base against the story generators' own who-saw-what simulator -------------
def _object_event_indices(events: list[str]) -> list[int]:
    """Sentences the simulator records as object events: moves, and placements in a container
    (not "The box is in the kitchen", which places a container in a room)."""
    import re

    rooms = {m.group(1) for e in events for m in [re.search(r"entered the (.+?)\.$", e)] if m}
    out = []
    for i, e in enumerate(events):
        s = e.rstrip(".")
        place = re.match(r"^The (.+?) is in the (.+)$", s)
        if re.match(r"^[A-Z][a-z]+ moved the ", s) or (place and place.group(2) not in rooms):
            out.append(i)
    return out


@pytest.mark.parametrize("kind,n", [("tomi", 60), ("hitom", 25)])
def test_rules_masking_matches_generator_simulator(fake_ctx, kind, n):
    generators = pytest.importorskip("tom_harness.data.generators")
    from tom_harness.data.generators.simulator import simulate

    stories = generators.tomi_stories(n, seed=3) if kind == "tomi" else generators.hitom_stories(n, seed=3)
    docs = []
    for sid, story in stories.items():
        fields = {k: v for k, v in story.items() if k != "questions"}
        docs += [{**fields, **q, "story_id": sid, "dataset": f"{kind}_gen", "seed": -1} for q in story["questions"]]
    edits = Enigma(nkb="rules", mode="im").edit_prompts(docs, info_from_yaml(TASK_DIR / kind / f"{kind}_gen.yaml"), fake_ctx)
    checked = 0
    for doc, edit in zip(docs, edits):
        chain = edit.info["chain"]
        if not chain:
            continue
        events = split_events(doc["narrative"], False)
        world = simulate(doc["narrative"])
        idx = _object_event_indices(events)
        assert len(idx) == len(world.events)
        saw = {i for i, (_, _, witnesses) in zip(idx, world.events) if set(chain) <= witnesses}
        assert set(edit.info["kept_events"]) & set(idx) == saw, (doc["question"], doc["narrative"])
        checked += 1
    assert checked > n  # every story has several belief questions


# -- faithful contexts equal the original's (issue 12 item 2), seed-12 stories worked by hand ----
# ToMi 2741751992, Enigma attribute world state (world_state_attr.json), per time stamp:
#   1 {"location of the workshop": [["the workshop", "Location", "entered"]]}
#   2 {"evelyn's search location": [["", "Evelyn's search location", "in workshop"]]}
#   3 = 1, 4 = 1, 5 {"skirt's location": [["", "Skirt's location", "in cupboard"]],
#                    "location of the cupboard": [["the cupboard", "Location", "in cupboard"]]}, ...
# The original cleans each key ("location of the workshop" -> "location of  workshop" -> split at
# " of " -> entity "workshop") and renders "<triple attribute> of <key entity>": "Location of
# workshop", not the triple's "the workshop". "evelyn's search location".rsplit("'s") keeps
# "search location" and, the triple's entity slot being empty, renders it plain: "Search location
# becomes in workshop"; "skirt's location" likewise gives "Location becomes in cupboard". Stamp 3
# repeats stamp 1, but the comparison is with stamp 2 (the previous non-empty stamp), so it is
# re-reported; stamp 4 repeats stamp 3 and is dropped. NER found only Hunter and Evelyn, so the
# chain is [Evelyn] and mode=ki still frames the text with her (the babbage versions did).
SKIRT_KI_FAITHFUL = [
    "The following events are known to Evelyn",
    "Abigail entered the workshop. Location of workshop becomes entered.",
    "Evelyn hates the lettuce. Search location becomes in workshop.",
    "Hunter entered the workshop. Location of workshop becomes entered.",
    "Evelyn entered the workshop.",
    "The skirt is in the cupboard. Location becomes in cupboard. Location of cupboard becomes in cupboard.",
    "The cupboard is in the workshop. Location of cupboard becomes in workshop.",
]
SKIRT_Q = "Where does Abigail think that Evelyn searches for the skirt?"


def test_faithful_ki_names_possessives_and_frame(shared_data, fake_ctx):
    edits, _ = edits_for(shared_data, fake_ctx, "tomi", "2741751992", nkb="cache", mode="ki", faithful=True)
    edit = edits[SKIRT_Q]
    assert edit.narrative.split("\n\n")[:7] == SKIRT_KI_FAITHFUL
    assert edit.narrative.endswith("Search location becomes in workshop.\n\n"
                                   "The narrative provided above depicts Evelyn's perspective.")
    assert edit.info["chain"] == ["Evelyn"] and edit.info["kept_events"] == list(range(11))
    assert edit.question == "Where does Evelyn search for the skirt at the end of the story?"  # reduced
    assert edit.info["injected_states"][4] == ["Location becomes in cupboard", "Location of cupboard becomes in cupboard"]


def test_fixed_ki_renders_possessives_sensibly(shared_data, fake_ctx):
    """Default: "x's y" is attribute y of entity x, repeats are per entity, no frame, the question
    as asked (mode=ki removes no believer)."""
    edits, _ = edits_for(shared_data, fake_ctx, "tomi", "2741751992", nkb="cache", mode="ki")
    edit = edits[SKIRT_Q]
    lines = edit.narrative.split("\n\n")
    assert lines[1] == "Evelyn hates the lettuce. Search location of evelyn becomes in workshop."
    assert lines[2] == "Hunter entered the workshop."  # same state as after event 1: dropped
    assert lines[4] == ("The skirt is in the cupboard. Location of skirt becomes in cupboard. "
                        "Location of cupboard becomes in cupboard.")
    assert edit.question == SKIRT_Q and not edit.narrative.startswith("The following")


# ToMi 3689466708, plain world state (world_state.json), stamp 4: {"underclothes": [["",
# "Underclothes", "in bottle"]], ...}. Faithful cleans the key to "underclos" and renders it.
@pytest.mark.parametrize("faithful,name", [(True, "Underclos"), (False, "Underclothes")])
def test_plain_entity_rendered_from_cleaned_key(shared_data, fake_ctx, faithful, name):
    edits, _ = edits_for(shared_data, fake_ctx, "tomi", "3689466708", nkb="cache", mode="ki",
                         attributes=False, faithful=faithful)
    text = edits["Where will Isabella look for the underclothes?"].narrative
    assert (f"The underclothes is in the bottle. Bottle becomes full. Drawer becomes open. "
            f"{name} becomes in bottle.") in text


# ToMi 3478657222 (gold: cupboard). Event rooms: laundry, laundry, cupboard, laundry x 7; the
# detected room list also has "bathtub", which the event-room vector never names. Jayden is in
# the laundry after events 1-5 and "none" after. Events 8 ("Avery moved the carrot to the
# bathtub") and 9 ("The bathtub is in the laundry") name the bathtub: the original moves events
# only between rooms of the vector, so they stay in the laundry group and are masked for Jayden
# (the project used to move them to a "bathtub" group no one occupies, which escaped the mask).
# "The cupboard is in the laundry" moves to the cupboard group and back (the cupboard group, never
# occupied, is not masked): Jayden keeps events 1-5 either way.
def test_faithful_room_grouping_uses_the_event_room_vector(shared_data, fake_ctx):
    edits, _ = edits_for(shared_data, fake_ctx, "tomi", "3478657222", nkb="cache", mode="im", faithful=True)
    edit = edits["Where will Jayden look for the carrot?"]
    assert edit.info["kept_events"] == [0, 1, 2, 3, 4]
    assert "Avery moved the carrot to the bathtub." not in edit.narrative


# FANToM 7483351084, "What does Kassandra believe about how ... shaped Keith, Alberto, and
# Caitlyn's ...": the original's tokens (",", ".", "'s" deleted) name four speakers; their
# presence vectors share no line, so the view is empty: just the header (stripped), then the
# perspective sentence of the last believer.
KASSANDRA_Q = ("What does Kassandra believe about how personal experiences and struggles shaped Keith, "
               "Alberto, and Caitlyn's professional choices and personalities?")


def test_faithful_empty_fantom_view_is_the_header_alone(shared_data, fake_ctx):
    edits, iv = edits_for(shared_data, fake_ctx, "fantom", "7483351084", nkb="cache", mode="im", faithful=True)
    edit = edits[KASSANDRA_Q]
    assert edit.info["chain"] == ["Kassandra", "Keith", "Alberto", "Caitlyn"]
    assert edit.narrative == ("The following events are known to Kassandra\n\n"
                              "The narrative provided above depicts Caitlyn's perspective.")
    assert iv.metadata["empty_contexts"] == 4 and "4 of 13 questions" in iv.metadata["warnings"][0]


def test_default_mode_warns_on_empty_and_unparsed(shared_data, fake_ctx, caplog):
    """An empty view and a task whose documents carry no narrative (as an OpenToM-style task
    pointed at enigma would) are counted in the cell metadata and logged."""
    docs = docs_from_file(str(shared_data / "fantom" / "fantom_seed12.json"), "fantom", 12, ["7483351084"])
    docs.append({"plot": "Sam put the apple in the box.", "question": "Where is the apple?",
                 "story_id": "x1", "dataset": "fantom"})
    iv = Enigma(nkb="cache", mode="im")
    with caplog.at_level("WARNING", logger="tom_harness.enigma"):
        edits = iv.edit_prompts(docs, info_from_yaml(TASK_DIR / "fantom" / "fantom_seed12.yaml"), fake_ctx)
    assert edits[-1] is None
    assert iv.metadata["unparsed_stories"] == 1 and iv.metadata["empty_contexts"] == 2
    assert iv.metadata["warnings"] == ["1 of 2 stories unparsed (asked unedited)",
                                       "2 of 14 questions with an empty masked context"]
    assert "have no events the pipeline can parse" in caplog.text and "2 of 14 questions" in caplog.text


def test_faithful_markdown_layout(shared_data, fake_ctx):
    """The original's markdown: "- " header, "- event" lines with tab-indented "- state" children
    left as built ("search location ...", not capitalised), blank lines between events."""
    edits, _ = edits_for(shared_data, fake_ctx, "tomi", "2741751992", nkb="cache", mode="ki",
                         faithful=True, render="markdown")
    assert edits[SKIRT_Q].narrative.startswith(
        "- The following events are known to Evelyn\n\n"
        "- Abigail entered the workshop.\n\t- Location of workshop becomes entered\n\n"
        "- Evelyn hates the lettuce.\n\t- search location becomes in workshop\n\n"
        "- Hunter entered the workshop.\n\t- Location of workshop becomes entered\n\n"
        "- Evelyn entered the workshop.\n\n")
