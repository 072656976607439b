"""What every measurement shares: timing, the result records and the table."""

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def interleaved(variants: dict[str, Callable], *, runs: int, warmup: int = 1) -> dict[str, dict]:
    """Time each variant ``runs`` times after ``warmup`` untimed calls.

    The variants take turns (A B C A B C …) instead of running in blocks, so a
    slow patch of the machine (another process, a CPU frequency change) hits
    every variant alike and the ratios between them stay fair. Returns, per
    variant, the best (fastest), median and slowest wall-clock time and the best
    and median CPU time of this process, in milliseconds.
    """
    for _ in range(warmup):
        for fn in variants.values():
            fn()
    wall: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, fn in variants.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            cpu[name].append((time.process_time() - start_cpu) * 1000)
            wall[name].append((time.perf_counter() - start) * 1000)
    return {name: summary(wall[name], cpu[name]) for name in variants}


def summary(wall: list[float], cpu: list[float]) -> dict:
    # Results compare the best run of each variant, as timeit advises: the code
    # does the same work every run, so slower runs measure other processes on
    # the machine (it may be shared), not the code. The median and the slowest
    # run are kept to show the spread. CPU time (this process only) is steadier
    # still on a busy machine, but blind to work done in other processes (the
    # database server, Chromium): it is used only where all the work is here.
    return {
        "best": min(wall),
        "median": statistics.median(wall),
        "max": max(wall),
        "cpu_best": min(cpu),
        "cpu_median": statistics.median(cpu),
        "cpu_mean": statistics.fmean(cpu),
        "runs": len(wall),
    }


class Results:
    """The measurements of one run, in order; ``database`` is stamped on each."""

    def __init__(self, database: str):
        self.database = database
        self.items: list[dict] = []

    def add(
        self,
        name: str,
        value,
        unit: str,
        *,
        goal: str,
        met: bool | None,
        floor_name: str | None = None,
        floor_value=None,
        **extra,
    ) -> dict:
        """One measurement. ``ratio`` is always value ÷ floor_value.

        ``met`` is None for a measurement that could not run here (then
        ``skipped`` says why) and for one taken to explain another, with no goal
        of its own (its ``goal`` says so).
        """
        item = {"name": name, "value": _round(value), "unit": unit, "goal": goal, "met": met}
        if floor_name is not None:
            item["floor_name"] = floor_name
            item["floor_value"] = _round(floor_value)
            item["ratio"] = round(value / floor_value, 3) if value and floor_value else None
        item.update({key: _round(v) for key, v in extra.items()})
        item["database"] = self.database
        self.items.append(item)
        return item

    def table(self) -> str:
        rows = [("Measurement", "Value", "Floor / compared with", "Ratio", "Goal", "Met")]
        for r in self.items:
            value = f"{_fmt(r['value'])} {r['unit']}"
            if "p50_ms" in r:
                value += f" (p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms, {r['errors']} err)"
            if r.get("skipped") or r.get("error"):
                value = "skipped" if r.get("skipped") else "ERROR"
            floor = (
                f"{_fmt(r['floor_value'])} {r['unit']} ({r['floor_name']})"
                if "floor_name" in r
                else ""
            )
            ratio = f"{r['ratio']:.2f}×" if r.get("ratio") is not None else ""
            met = {True: "yes", False: "NO", None: "–"}[r["met"]]
            rows.append((r["name"], value, floor, ratio, r["goal"], met))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = [
            " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows
        ]
        lines.insert(1, "-+-".join("-" * w for w in widths))
        return "\n".join(lines)


def _round(value):
    return round(value, 2) if isinstance(value, float) else value


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


@contextmanager
def tasks_only_taken(**settings) -> Iterator:
    """Tasks are taken and kept, not run (Django's dummy backend: what a web process
    does when a worker elsewhere draws the handout), with ``settings`` overridden too.
    The task backends are read once per process: read again on the way in and out."""
    from asgiref.local import Local
    from django.tasks import task_backends
    from django.test.utils import override_settings

    def reset():
        task_backends._settings = None
        task_backends.__dict__.pop("settings", None)
        task_backends._connections = Local(False)

    dummy = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    with override_settings(TASKS=dummy, **settings):
        reset()
        try:
            yield task_backends["default"]
        finally:
            reset()
