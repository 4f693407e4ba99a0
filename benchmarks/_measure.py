"""Measurement helpers shared by the benchmark scripts: CPU time, load, alternated repeats.

A figure taken on a loaded machine measures the load, not the code. So every comparison here
alternates its arms (A, B, A, B, ...) inside one process, reports the median and the spread of
each arm, and records the load average before and after beside them; a run whose load exceeds
the machine's cores is flagged (or refused with ``strict``).
"""
from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable


def cpu_seconds() -> float:
    """User + system CPU time of this process and its live children (vLLM engine processes)."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil ships with the vLLM extra
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system
    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.Error:
            pass
    return total


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds, result) of one call."""
    w, c = time.perf_counter(), cpu_seconds()
    out = fn()
    return time.perf_counter() - w, cpu_seconds() - c, out


def load_average() -> dict[str, float]:
    one, five, fifteen = os.getloadavg()
    return {"load1": round(one, 2), "load5": round(five, 2), "load15": round(fifteen, 2), "cores": os.cpu_count() or 1}


def load_verdict(before: dict, after: dict) -> str:
    """'quiet' when the 1-minute load stayed within the cores, else a flag naming the load."""
    worst = max(before["load1"], after["load1"])
    if worst > before["cores"]:
        return f"LOADED: load {worst:.1f} > {before['cores']} cores; ratios hold better than absolute times"
    return "quiet"


@dataclass
class Arm:
    """Samples of one arm: wall and CPU seconds per repeat, plus whatever the call returned."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        return {"median_wall": statistics.median(self.wall), "min_wall": min(self.wall),
                "max_wall": max(self.wall), "median_cpu": statistics.median(self.cpu), "n": len(self.wall)}


def alternate(arms: dict[str, Callable[[], Any]], repeats: int = 3) -> dict[str, Arm]:
    """Run the arms in turn ``repeats`` times (A, B, A, B, ...): load drifts hit every arm alike."""
    if repeats < 1:
        raise ValueError("repeats must be >= 1")
    out = {name: Arm() for name in arms}
    for _ in range(repeats):
        for name, fn in arms.items():
            w, c, r = timed(fn)
            out[name].wall.append(w)
            out[name].cpu.append(c)
            out[name].results.append(r)
    return out


def spread(arm: Arm) -> str:
    s = arm.summary()
    return f"{s['median_wall']:.3f} s (min {s['min_wall']:.3f}, max {s['max_wall']:.3f}, n={s['n']}; CPU {s['median_cpu']:.3f} s)"


def ratio(a: Arm, b: Arm) -> float:
    """Median of A over median of B (wall)."""
    return statistics.median(a.wall) / max(statistics.median(b.wall), 1e-12)
