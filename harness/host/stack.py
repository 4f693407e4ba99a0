"""Stacked rows: ``a+b[+c]`` is one matrix row that applies several interventions at once.

Splitting rule (``+`` also occurs inside values: ``1e+5``, enigma's ``mode=ki+im``): a top-level
``+`` (outside ``[...]``) separates two parts when

* it stands in the name position of the current part (before its first ``:``), or
* the text after it is a *registered* intervention name followed by ``:``, ``+`` or the end.

So ``grad_mask:m=1e+5+cot`` is ``grad_mask:m=1e+5`` and ``cot``; ``enigma:mode=ki+im`` is one part
(``im`` is no intervention); ``localizer:pct=1+enigma:mode=ki+im,nkb=cache`` is two parts. An
unknown name followed by ``:`` after a ``+`` (``sbs+cott:shots=2``) is an error naming it.

How parts combine:

* ``weights`` / ``activations`` parts are applied in order and removed in reverse; the runner's
  restore and hook checks cover the whole stack (it is checked if any part is weights/activations).
* ``prompts`` parts compose field by field: ``narrative`` and ``question`` are *rewrites* (two
  parts setting one is a usage error naming both), ``preamble``, ``instruction`` and ``answer_lead``
  are *insertions* joined in stack order, ``gen_kwargs`` merge key by key (one key set to two values
  is a usage error), ``info`` is kept per part.
* A stack applies to a task only where every part does; the n/a reason names the first part
  that does not.
"""
from __future__ import annotations

import itertools
import re
from typing import TYPE_CHECKING, Any, Callable, Collection, Sequence

from tom_harness.api.errors import UsageError, unknown
from tom_harness.api.intervention import Intervention, PromptEdit, TaskInfo

if TYPE_CHECKING:  # pragma: no cover
    from tom_harness.api.context import RunContext

CHECKED_KINDS = ("weights", "activations")
REWRITE_FIELDS = ("narrative", "question")
INSERT_FIELDS = {"preamble": "\n\n", "instruction": "\n", "answer_lead": " "}
_NAME = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?=(:|\+|$))")


def split_parts(text: str, known: Collection[str]) -> list[str]:
    """Split a spec into its stack parts (see the module docstring for the rule)."""
    parts: list[str] = []
    start, depth, in_name = 0, 0, True
    for i, ch in enumerate(text):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(0, depth - 1)
        elif ch == ":" and depth == 0:
            in_name = False
        elif ch == "+" and depth == 0:
            m = _NAME.match(text, i + 1)
            boundary = in_name or bool(m and m.group(1) in known)
            if not boundary and m and m.group(2) == ":":
                raise unknown(f"intervention (part of stack {text!r})", m.group(1), known)
            if boundary:
                parts.append(text[start:i])
                start, in_name = i + 1, True
    parts.append(text[start:])
    parts = [p.strip() for p in parts]
    if len(parts) > 1 and not all(parts):
        raise UsageError(f"stack {text!r}: empty part (write a+b, each part a spec)")
    return parts


def part_kinds(iv: Intervention) -> list[str]:
    """The kinds an intervention row combines (one for a plain row)."""
    return str(iv.kind).split("+")


def is_checked(iv: Intervention) -> bool:
    """Whether the runner must verify weights and hooks after this row's cells."""
    return any(k in CHECKED_KINDS for k in part_kinds(iv))


def edits_prompts(iv: Intervention) -> bool:
    """Whether the wrapper must ask this row for prompt edits."""
    return "prompts" in part_kinds(iv)


def prompt_parts(iv: Intervention) -> list[Intervention]:
    """The interventions of a row that edit prompts, in stack order (a plain row: itself or
    none). A dry run prepares and applies only these; the row's ``edit_prompts`` asks only these."""
    parts = iv.parts if isinstance(iv, Stack) else [iv]
    return [p for p in parts if edits_prompts(p)]


def build_stack_rows(text: str, known: Collection[str],
                     build_part: Callable[[str], list[Intervention]]) -> list[Intervention] | None:
    """Rows of a stacked spec (the product of each part's expanded rows), or None if ``text``
    is a single intervention (the caller builds it as usual). ``known``: the registered
    intervention names; ``build_part(spec)``: the rows of one part (a single intervention)."""
    parts = split_parts(text.strip(), known)
    if len(parts) == 1:
        return None
    names = [p.partition(":")[0].strip() for p in parts]
    for name in names:
        if name not in known:
            raise unknown("intervention", name, known)
    if "none" in names:
        raise UsageError(f"stack {text!r}: 'none' cannot be stacked (the baseline is its own row)")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UsageError(f"stack {text!r}: {', '.join(twice)} given twice; a stack holds each intervention once")
    per_part = [build_part(p) for p in parts]
    return [Stack(list(combo)) for combo in itertools.product(*per_part)]


class Stack(Intervention):
    """Several interventions as one row (built by :func:`build_stack_rows`, never registered)."""

    def __init__(self, parts: Sequence[Intervention]) -> None:
        super().__init__()
        self.parts = list(parts)
        self.name = "+".join(p.name for p in self.parts)  # type: ignore[misc]
        kinds = [k for p in self.parts for k in part_kinds(p) if k != "none"]
        self.kind = "+".join(dict.fromkeys(kinds)) or "none"  # type: ignore[misc]
        self.description = "stack of " + ", ".join(p.name for p in self.parts)  # type: ignore[misc]
        self.values = {p.name: dict(p.values) for p in self.parts}
        self._applied: list[Intervention] = []

    # -- identity ---------------------------------------------------------------------------
    def label(self) -> str:
        return "+".join(p.label() for p in self.parts)

    def group_label(self) -> str:
        return "+".join(p.group_label() for p in self.parts)

    def replicate_params(self) -> list[str]:
        return [f"{p.name}.{r}" for p in self.parts for r in p.replicate_params()]

    # -- applicability ------------------------------------------------------------------------
    def blocking_part(self, task: TaskInfo) -> Intervention | None:
        """The first part that does not apply to ``task`` (None: the whole stack applies)."""
        return next((p for p in self.parts if not p.applies_to(task)), None)

    def not_applicable_reason(self, task: TaskInfo) -> str | None:
        """The first blocking part's reason, naming the stack (``applies_to``/``na_reason`` follow)."""
        part = self.blocking_part(task)
        return None if part is None else f"{part.na_reason(task)} (part of {self.label()})"

    def unavailable(self, ctx: "RunContext") -> str | None:
        """The first part's reason it cannot run on the loaded backend (see ``Adapter``)."""
        for p in self.parts:
            reason = p.unavailable(ctx)
            if reason:
                return f"{p.label()} (part of {self.label()}): {reason}"
        return None

    # -- lifecycle ----------------------------------------------------------------------------
    def prepare(self, ctx: "RunContext") -> None:
        for p in self.parts:
            p.prepare(ctx)

    def apply(self, ctx: "RunContext") -> None:
        """Apply every part in order; if one fails, undo the ones already applied."""
        self._applied = []
        try:
            for p in self.parts:
                p.apply(ctx)
                self._applied.append(p)
        except BaseException:
            self.remove(ctx)
            raise

    def remove(self, ctx: "RunContext") -> None:
        """Undo the applied parts in reverse order (every one is attempted; first error re-raised)."""
        first: BaseException | None = None
        while self._applied:
            p = self._applied.pop()
            try:
                p.remove(ctx)
            except BaseException as exc:  # noqa: BLE001 - keep undoing the rest
                first = first or exc
        if first is not None:
            raise first

    def edit_prompts(self, docs: list[dict], task: TaskInfo, ctx: "RunContext") -> list[PromptEdit | None]:
        editing = prompt_parts(self)
        per_part = [p.edit_prompts(docs, task, ctx) for p in editing]
        for p, edits in zip(editing, per_part):
            if len(edits) != len(docs):
                raise ValueError(f"{p.label()}: edit_prompts returned {len(edits)} edits for {len(docs)} docs")
        return [compose(list(zip(editing, col))) for col in zip(*per_part)] if per_part else [None] * len(docs)

    def cell_metadata(self) -> dict[str, Any]:
        return {"stack": [p.label() for p in self.parts], "parts": {p.label(): p.cell_metadata() for p in self.parts}}


def compose(edits: list[tuple[Intervention, PromptEdit | None]]) -> PromptEdit | None:
    """One document's edits from several parts, merged field by field (module docstring)."""
    present = [(p, e) for p, e in edits if e is not None]
    if not present:
        return None
    out = PromptEdit()
    owner: dict[str, str] = {}
    for part, edit in present:
        for fname in REWRITE_FIELDS:
            value = getattr(edit, fname)
            if value is None:
                continue
            if fname in owner:
                raise UsageError(f"stack: {owner[fname]} and {part.label()} both rewrite the {fname}; "
                                 "stack at most one of them")
            owner[fname] = part.label()
            setattr(out, fname, value)
        for fname, sep in INSERT_FIELDS.items():
            value = getattr(edit, fname)
            if value:
                old = getattr(out, fname)
                setattr(out, fname, value if not old else old.rstrip() + sep + value.strip())
        for key, value in edit.gen_kwargs.items():
            where = f"gen_kwargs.{key}"
            if key in out.gen_kwargs and out.gen_kwargs[key] != value:
                raise UsageError(f"stack: {owner[where]} sets {key}={out.gen_kwargs[key]!r} and {part.label()} "
                                 f"sets {key}={value!r}; give both the same value")
            owner.setdefault(where, part.label())
            out.gen_kwargs[key] = value
        if edit.info:
            out.info[part.label()] = dict(edit.info)
    if len(present) == 1:  # a single part's notes stay as that part wrote them
        out.info = dict(present[0][1].info)
    return out
