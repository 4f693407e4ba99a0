"""How rows are named in tables and found by ``compare`` / ``export``.

A row's label (:meth:`Intervention.label`) leaves out parameters at their defaults, so a row run as
``scale:layer=10,factor=0.5`` is labelled ``scale`` when those are the defaults: right for a
cache key, unhelpful in a table. The tables show a *display label* instead: the label plus every
parameter that

* the matrix spec wrote out (``manifest.json``'s ``interventions``), or
* takes more than one value among the rows of that intervention (so rows read apart),

in the intervention's own parameter order, values as in labels (:func:`format_value`). A row is
found (:class:`RowIndex`) by its label, its id, its display label, or any spec that names it:
``scale:layer=10,factor=0.5`` finds the row whose recorded values agree on every key given and
whose non-default values are all given.
"""
from __future__ import annotations

import json
import math
from typing import Any, Iterable

from tom_harness.api.errors import UsageError, unknown
from tom_harness.api.params import format_value, parse_spec
from tom_harness.host.stack import split_parts

Parts = list[tuple[str, dict[str, Any]]]


def row_parts(iv: dict) -> Parts:
    """``[(part name, its recorded values)]`` of a cell's intervention (one part unless stacked)."""
    name, params = str(iv.get("name") or str(iv.get("label", "")).split(":")[0]), iv.get("params") or {}
    if isinstance(params, str):  # the tidy table keeps params as JSON text
        params = json.loads(params or "{}")
    names = name.split("+")
    if len(names) == 1:
        return [(name, dict(params))]
    return [(n, dict(params.get(n) or {})) for n in names]


def _label_keys(label: str, names: list[str]) -> list[set[str]] | None:
    """Per stack part, the parameter keys a label shows; None if the label does not parse."""
    try:
        texts = split_parts(label, set(names)) if len(names) > 1 else [label]
        keys = [set(parse_spec(t).raw) for t in texts]
    except UsageError:
        return None
    return keys if len(keys) == len(names) else None


def spec_keys(specs: Iterable[str], names: Iterable[str]) -> dict[str, set[str]]:
    """Intervention name -> the parameter keys the matrix spec strings write out."""
    known, out = set(names), {}
    for text in specs:
        try:
            for part in split_parts(str(text).strip(), known):
                spec = parse_spec(part)
                out.setdefault(spec.name, set()).update(spec.raw)
        except UsageError:
            continue
    return out


def _varying(cells: list[dict]) -> dict[str, set[str]]:
    """Intervention name -> keys with more than one value among its rows."""
    seen: dict[str, dict[str, set[str]]] = {}
    for c in cells:
        for name, values in row_parts(c["intervention"]):
            for k, v in values.items():
                seen.setdefault(name, {}).setdefault(k, set()).add(format_value(v))
    return {name: {k for k, vals in keys.items() if len(vals) > 1} for name, keys in seen.items()}


def _render(parts: Parts, shown: list[set[str]]) -> str:
    texts = []
    for (name, values), keys in zip(parts, shown):
        pairs = [f"{k}={format_value(v)}" for k, v in values.items() if k in keys]
        texts.append(name + (":" + ",".join(pairs) if pairs else ""))
    return "+".join(texts)


def display_labels(cells: Iterable[dict], specs: Iterable[str] = ()) -> dict[str, str]:
    """Label (and group label) -> display label, unique over the rows of ``cells``."""
    cells = [c for c in cells if isinstance(c.get("intervention"), dict)]
    vary = _varying(cells)
    given = spec_keys(specs, {n for c in cells for n, _ in row_parts(c["intervention"])})
    out: dict[str, str] = {}
    for c in cells:
        iv = c["intervention"]
        parts = row_parts(iv)
        names = [n for n, _ in parts]
        replicate = {r.split(".")[-1] for r in iv.get("replicate_params") or []}
        label, group = str(iv["label"]), str(iv.get("group_label", iv["label"]))
        for text, drop in ((label, set()), (group, replicate)):
            keys = _label_keys(text, names)
            if keys is None or not any(values for _, values in parts):  # nothing to add: keep the label
                out.setdefault(text, text)
                continue
            shown = [(own | vary.get(n, set()) | given.get(n, set())) - (drop - own) for n, own in zip(names, keys)]
            out.setdefault(text, _render(parts, shown))
    clashes = {d for d in out.values() if list(out.values()).count(d) > 1}
    return {k: (k if v in clashes else v) for k, v in out.items()}  # never merge two rows


def _same(raw: str, value: Any) -> bool:
    """Whether the spec text ``raw`` denotes the recorded ``value``."""
    text = raw.strip()
    if text.replace(" ", "") == format_value(value).replace(" ", ""):
        return True
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isclose(float(text), float(value), rel_tol=1e-12, abs_tol=0.0)
    except ValueError:
        return False


class RowIndex:
    """The rows of one output directory, found by label, id, display label or spec."""

    def __init__(self, cells: Iterable[dict], specs: Iterable[str] = ()) -> None:
        self.ivs: dict[str, dict] = {}
        for c in cells:
            self.ivs.setdefault(str(c["intervention"]["label"]), c["intervention"])
        self.display = display_labels([{"intervention": iv} for iv in self.ivs.values()], specs)
        self.alias: dict[str, str] = {}
        for label, iv in self.ivs.items():
            for name in (label, str(iv.get("id", label)), self.display.get(label, label)):
                self.alias.setdefault(name, label)

    def labels(self) -> list[str]:
        return sorted(self.ivs)

    def lookup(self, name: str, where: str = "output directory") -> str | None:
        """The label of the row ``name`` names, or None; a spec that fits several rows is an error."""
        if name in self.alias:
            return self.alias[name]
        hits = self._by_spec(name)
        if len(hits) > 1:
            raise UsageError(f"row {name!r} in {where} matches several rows: {', '.join(hits)}; give more parameters")
        return hits[0] if hits else None

    def find(self, name: str, where: str = "output directory") -> str:
        """:meth:`lookup`, with a UsageError naming the closest rows when nothing matches."""
        label = self.lookup(name, where)
        if label is None:
            raise unknown(f"row in {where}", name, self.labels())
        return label

    def _by_spec(self, text: str) -> list[str]:
        try:
            names = [p.partition(":")[0].strip() for p in split_parts(text.strip(), self._names())]
            given = [parse_spec(p).raw for p in split_parts(text.strip(), self._names())]
        except UsageError:
            return []
        hits = []
        for label, iv in self.ivs.items():
            parts = row_parts(iv)
            if [n for n, _ in parts] != names:
                continue
            own = _label_keys(label, names) or [set(values) for _, values in parts]
            if all(set(raw) <= set(values) and own_keys <= set(raw) and all(_same(raw[k], values[k]) for k in raw)
                   for (_, values), raw, own_keys in zip(parts, given, own)):
                hits.append(label)
        return sorted(hits)

    def _names(self) -> set[str]:
        return {n for iv in self.ivs.values() for n, _ in row_parts(iv)}


def manifest_specs(roots: Iterable[Any]) -> list[str]:
    """The ``interventions`` spec strings of the manifests under ``roots`` (unreadable: none)."""
    from tom_harness.results.outdir import OutputDir

    out: list[str] = []
    for root in roots:
        try:
            manifest = OutputDir(root).read_manifest() or {}
        except UsageError:
            continue
        specs = (manifest.get("spec") or {}).get("interventions") or []
        out += [str(s) for s in specs] if isinstance(specs, list) else []
    return out
