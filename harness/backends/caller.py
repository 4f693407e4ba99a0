"""The generation interface prompt interventions use to call the model themselves.

Calls are batched through the backend's own ``generate_until`` (so they run on HF and vLLM alike),
greedy, and cached on disk by (model state, prompt, generation settings): re-running a cell does
not re-query. ``stats`` counts calls, cache hits and generated tokens for the cell's metadata.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from lm_eval.api.instance import Instance

log = logging.getLogger("tom_harness")


@dataclass
class CallStats:
    calls: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    generated_tokens: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)

    def add(self, other: "CallStats") -> None:
        for k, v in other.__dict__.items():
            setattr(self, k, getattr(self, k) + v)


class GenerationStore:
    """A small sqlite key-value store for generations (safe to interrupt: sqlite is atomic).

    The file is opened on first use, so runs without prompt methods never touch it. A file that
    is not a readable sqlite database is reported, moved aside (``*.corrupt-<time>``) and
    replaced by an empty store: cached generations are only a speed-up.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._conn = self._open()
            except sqlite3.DatabaseError as exc:
                aside = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}")
                os.replace(self.path, aside)
                log.warning("generation cache %s is not a readable sqlite database (%s); moved it to %s "
                            "and started an empty one", self.path, exc, aside)
                self._conn = self._open()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=60)
        try:
            db.execute("CREATE TABLE IF NOT EXISTS gen (k TEXT PRIMARY KEY, v TEXT)")
            db.execute("SELECT count(*) FROM gen LIMIT 1").fetchall()
            db.commit()
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                chunk = list(keys[i : i + 500])
                q = "SELECT k, v FROM gen WHERE k IN (%s)" % ",".join("?" * len(chunk))
                out.update(dict(self._db.execute(q, chunk).fetchall()))
        return out

    def put_many(self, items: dict[str, str]) -> None:
        with self._lock:
            self._db.executemany("INSERT OR REPLACE INTO gen VALUES (?, ?)", list(items.items()))
            self._db.commit()


@dataclass
class ModelCaller:
    """``generate(prompts)`` for interventions; one per matrix, ``state`` set per cell."""

    lm: Any
    store: GenerationStore | None = None
    model_fingerprint: str = ""
    #: label of what else changes the model while prompting (an active weights/hook intervention)
    state: str = ""
    apply_chat_template: bool = False
    system_instruction: str | None = None
    stats: CallStats = field(default_factory=CallStats)

    def render(self, prompt: str | list[dict], chat: bool | None = None) -> str:
        """Turn a user prompt (or a chat history) into the model's input text."""
        use_chat = self.apply_chat_template if chat is None else chat
        if isinstance(prompt, list):
            history = prompt
        else:
            history = [{"role": "user", "content": prompt}]
        if use_chat and hasattr(self.lm, "apply_chat_template"):
            if self.system_instruction and history[0].get("role") != "system":
                history = [{"role": "system", "content": self.system_instruction}] + history
            return self.lm.apply_chat_template(history, add_generation_prompt=True)
        text = "\n\n".join(m["content"] for m in history)
        if self.system_instruction:
            text = self.system_instruction + "\n\n" + text
        return text

    def _key(self, text: str, gen_kwargs: dict) -> str:
        blob = json.dumps(
            [self.model_fingerprint, self.state, text, gen_kwargs], sort_keys=True, default=str
        )
        return hashlib.sha256(blob.encode()).hexdigest()

    def generate(
        self,
        prompts: Sequence[str | list[dict]],
        max_gen_toks: int = 256,
        until: Sequence[str] | None = None,
        chat: bool | None = None,
    ) -> list[str]:
        """Greedy completions of ``prompts`` in one batched backend call (cached)."""
        texts = [self.render(p, chat) for p in prompts]
        gen_kwargs = {"until": list(until or []), "max_gen_toks": int(max_gen_toks), "do_sample": False}
        if not gen_kwargs["until"]:
            gen_kwargs["until"] = [self._eos_text()]
        keys = [self._key(t, gen_kwargs) for t in texts]
        found = self.store.get_many(keys) if self.store else {}
        todo = [i for i, k in enumerate(keys) if k not in found]
        unique: dict[str, int] = {}
        for i in todo:
            unique.setdefault(keys[i], i)
        if unique:
            requests = [
                Instance(
                    request_type="generate_until",
                    doc={},
                    arguments=(texts[i], dict(gen_kwargs)),
                    idx=0,
                    metadata=("tom_harness_caller", n, 1),
                )
                for n, i in enumerate(unique.values())
            ]
            outputs = self.lm.generate_until(requests, disable_tqdm=True)
            new = {k: out for k, out in zip(unique, outputs)}
            if self.store:
                self.store.put_many(new)
            found.update(new)
            self.stats.calls += len(new)
            self.stats.prompt_tokens += sum(self._count(texts[i]) for i in unique.values())
            self.stats.generated_tokens += sum(self._count(o) for o in new.values())
        self.stats.cached += len(keys) - len(unique)
        return [found[k] for k in keys]

    def _eos_text(self) -> str:
        tok = getattr(self.lm, "tokenizer", None)
        return getattr(tok, "eos_token", None) or "<|endoftext|>"

    def _count(self, text: str) -> int:
        tok = getattr(self.lm, "tokenizer", None)
        if tok is None:
            return len(text.split())
        return len(tok(text, add_special_tokens=False)["input_ids"])

    def take_stats(self) -> CallStats:
        """Return and reset the counters (one cell's worth)."""
        out, self.stats = self.stats, CallStats()
        return out
