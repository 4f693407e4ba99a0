"""``--model replay``: recorded responses served to every task's own scorer (docs/replay.md).

Published outputs of another group's model become a row of the same matrix, tables, paired tests
and ``compare`` as a live model: the file is JSON lines, one response per line,
``{"task", "doc", "repeat", "response"}``. ``doc`` is the document's key: the field a task names
in its YAML metadata (``doc_key: scenario``), else lm-eval's ``doc_id`` as a string. Under
``--repeats N`` the k-th copy of a request gets ``repeat`` k (lm-eval sends the N copies of
one request together); without repeats, ``repeat`` 0.

No model runs: ``loglikelihood`` requests are refused (exit 2, naming the task), interventions
other than ``none`` are n/a (:meth:`ReplayLM.refuses`), and the cell records the file's sha256
as the model fingerprint. A document with no recorded response is an error naming it, or, with
``missing=skip``, makes the cell n/a with that reason. ``missing=short``: a document recorded
fewer times than ``--repeats`` is scored on the answers it has (released data with 295 of 300
samples); the task's scorer gets ``None`` for the rest and the repeats scorer leaves them out.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from lm_eval.api.model import LM

from tom_harness.api.context import ModelHandle
from tom_harness.api.errors import NotApplicableError, UsageError, closest
from tom_harness.api.hookspecs import hookimpl

KEYS = ("task", "doc", "repeat", "response")
MISSING = ("error", "skip", "short")


@dataclass(frozen=True)
class ReplayRecord:
    """One recorded response: ``response`` was the ``repeat``-th answer to document ``doc`` of ``task``."""

    task: str
    doc: str
    repeat: int
    response: str


@dataclass
class ReplayFile:
    """A parsed replay file: its records in file order, its sha256, and a lookup table."""

    path: Path
    sha256: str
    records: list[ReplayRecord]
    index: dict[tuple[str, str, int], str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.index = {(r.task, r.doc, r.repeat): r.response for r in self.records}
        self.recorded = {(r.task, r.doc) for r in self.records}

    def tasks(self) -> list[str]:
        return sorted({r.task for r in self.records})

    def docs(self, task: str) -> list[str]:
        return sorted({r.doc for r in self.records if r.task == task})


def _record(obj: Any, where: str) -> ReplayRecord:
    if not isinstance(obj, dict):
        raise UsageError(f"{where}: expected a JSON object with keys {', '.join(KEYS)}, got {type(obj).__name__}")
    missing = [k for k in KEYS if k not in obj]
    if missing:
        raise UsageError(f"{where}: missing key(s) {', '.join(missing)} (a line holds {', '.join(KEYS)})")
    extra = sorted(set(obj) - set(KEYS) - {"meta"})
    if extra:
        hint = closest(extra[0], KEYS)
        raise UsageError(f"{where}: unknown key {extra[0]!r}" + (f"; did you mean {hint[0]!r}?" if hint else ""))
    repeat = obj["repeat"]
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 0:
        raise UsageError(f"{where}: 'repeat' must be an integer >= 0, got {repeat!r}")
    if not isinstance(obj["response"], str) or not isinstance(obj["task"], str):
        raise UsageError(f"{where}: 'task' and 'response' must be strings")
    if not isinstance(obj["doc"], (str, int)) or isinstance(obj["doc"], bool):
        raise UsageError(f"{where}: 'doc' must be a string (or an integer doc_id), got {obj['doc']!r}")
    return ReplayRecord(obj["task"], str(obj["doc"]), repeat, obj["response"])


def read_replay(path: str | Path) -> ReplayFile:
    """Parse and check a replay file (public: training on published outputs reads it too).

    Bad lines and duplicate (task, doc, repeat) triples raise UsageError naming the line."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise UsageError(f"replay file {p} does not exist (--model_args path=FILE)")
    raw = p.read_bytes()
    records, seen = [], {}
    for n, line in enumerate(raw.decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{p.name}:{n}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{where}: not JSON ({exc.msg})") from None
        rec = _record(obj, where)
        key = (rec.task, rec.doc, rec.repeat)
        if key in seen:
            raise UsageError(f"{where}: task {rec.task!r} doc {rec.doc!r} repeat {rec.repeat} already on line {seen[key]}")
        seen[key] = n
        records.append(rec)
    if not records:
        raise UsageError(f"replay file {p} holds no responses")
    return ReplayFile(p, hashlib.sha256(raw).hexdigest(), records)


def write_replay(path: str | Path, records: list[ReplayRecord]) -> Path:
    """Write records in the replay format (one JSON object per line, keys in :data:`KEYS` order)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p, "w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps({"task": r.task, "doc": r.doc, "repeat": r.repeat, "response": r.response},
                                ensure_ascii=False) + "\n")
    return p


def _catalog_metadata() -> Callable[[str], dict]:
    """Task metadata through the registered task sources (for ``doc_key``), loaded lazily."""
    state: dict[str, Any] = {}

    def meta(task: str) -> dict:
        if "catalog" not in state:
            from tom_harness.host.plugin_host import get_host
            from tom_harness.lmeval.tasks import TaskCatalog

            state["catalog"] = TaskCatalog.from_sources(get_host().task_sources)
        try:
            return state["catalog"].metadata(task)
        except UsageError:
            return {}  # a task outside the registered sources: doc_id keys

    return meta


class ReplayLM(LM):
    """An lm-eval ``LM`` answering ``generate_until`` from a :class:`ReplayFile`."""

    def __init__(self, replay: ReplayFile, missing: str = "error",
                 task_metadata: Callable[[str], dict] | None = None) -> None:
        super().__init__()
        self.replay, self.missing = replay, missing
        self.task_metadata = task_metadata or _catalog_metadata()
        self.served: Counter = Counter()

    @property
    def tokenizer_name(self) -> str:
        return "replay"

    def chat_template(self, chat_template: bool | str = False) -> str:
        return ""

    def apply_chat_template(self, chat_history: list[dict], add_generation_prompt: bool = True) -> str:
        return "\n\n".join(m.get("content", "") for m in chat_history)

    def refuses(self, intervention: Any) -> str | None:
        """Why a row cannot run on recorded responses (the runner writes an n/a cell), or None."""
        if getattr(intervention, "name", "none") == "none":
            return None
        return (f"replay serves recorded responses of {self.replay.path.name}: intervention "
                f"{intervention.label()} cannot change them (only 'none' applies)")

    def doc_key(self, task: str, doc: dict, doc_id: int) -> str:
        field_name = self.task_metadata(task).get("doc_key")
        if field_name and isinstance(doc, dict) and field_name in doc:
            return str(doc[field_name])
        return str(doc_id)

    def generate_until(self, requests: list, disable_tqdm: bool = False) -> list[str | None]:
        out, copies, absent = [], Counter(), []
        for req in requests:
            key = self.doc_key(req.task_name, req.doc, req.doc_id)
            k = copies[(req.task_name, req.doc_id)]
            copies[(req.task_name, req.doc_id)] += 1
            text = self.replay.index.get((req.task_name, key, k))
            if text is None and not (self.missing == "short" and (req.task_name, key) in self.replay.recorded):
                absent.append((req.task_name, key, k))
            out.append(text)  # None: a repeat beyond what was recorded (missing=short), left out of the mean
        if absent:
            self._missing(absent)
        self.served["generate_until"] += len(out)
        return out

    def _missing(self, absent: list[tuple[str, str, int]]) -> None:
        task, doc, k = absent[0]
        known = self.replay.docs(task)
        if not known:
            where = f"no responses for task {task!r} (the file has: {', '.join(self.replay.tasks())})"
        else:
            hint = closest(doc, known)
            where = (f"no response for task {task!r} doc {doc!r} repeat {k}"
                     + (f" (closest docs: {', '.join(hint)})" if hint else ""))
        more = f" and {len(absent) - 1} more request(s)" if len(absent) > 1 else ""
        msg = f"replay {self.replay.path.name}: {where}{more}"
        if self.missing == "skip":
            raise NotApplicableError(msg + "; missing=skip: cell n/a")
        raise UsageError(msg + "; record them, lower --repeats/--limit, or pass missing=skip")

    def _refuse_loglikelihood(self, requests: list) -> None:
        tasks = sorted({r.task_name for r in requests})
        raise UsageError(f"replay has recorded text only; task(s) {', '.join(tasks)} ask for "
                         "log-likelihoods, which need a model (use --model hf or vllm)")

    def loglikelihood(self, requests: list, disable_tqdm: bool = False) -> list:
        self._refuse_loglikelihood(requests)
        return []

    def loglikelihood_rolling(self, requests: list, disable_tqdm: bool = False) -> list:
        self._refuse_loglikelihood(requests)
        return []


def check_replay(model_args: dict) -> None:
    """``path=`` present and readable, ``missing`` one of :data:`MISSING`, nothing else."""
    unknown_keys = sorted(set(model_args) - {"path", "missing", "name"})
    if unknown_keys:
        hint = closest(unknown_keys[0], ["path", "missing", "name"])
        raise UsageError(f"model_args: unknown key {unknown_keys[0]!r} for --model replay"
                         + (f"; did you mean {hint[0]!r}?" if hint else "; valid: path, missing, name"))
    if "path" not in model_args:
        raise UsageError("--model replay needs --model_args path=FILE (a JSONL replay file, docs/replay.md)")
    missing = str(model_args.get("missing", "error"))
    if missing not in MISSING:
        raise UsageError(f"model_args: missing={missing!r}; valid: {', '.join(MISSING)}")
    read_replay(model_args["path"])


def load_replay(model_args: dict, device: str | None, batch_size: Any) -> ModelHandle:
    """The replay 'model': no weights; the fingerprint is the file's sha256."""
    replay = read_replay(model_args["path"])
    lm = ReplayLM(replay, str(model_args.get("missing", "error")))
    name = str(model_args.get("name") or f"replay:{replay.path.stem}")
    args = {**model_args, "path": str(replay.path), "sha256": replay.sha256}
    return ModelHandle(backend="replay", name=name, lm=lm, tokenizer=None, model=None, model_args=args,
                       apply=lambda fn: [], fingerprint=f"sha256:{replay.sha256}")


@hookimpl
def register_backends(register):
    register("replay", load_replay, "recorded responses from a JSONL file (path=FILE[,missing=skip]); "
             "text tasks only, intervention 'none' only (docs/replay.md)", check=check_replay)
