"""Measurements 3 and 7: cold start and peak memory, in fresh processes (bench/worker.py)."""

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from bench.common import Results

COLD_RUNS = 3


# Linux pitfall: a child's ru_maxrss starts at its parent's RSS at the fork (the
# kernel carries the forked memory image's high-water mark across exec), so a
# worker started straight from this bench process (~200 MB with its data and
# Playwright) would report at least that. Started through a small launcher
# process, it inherits only the launcher's ~10 MB.
LAUNCHER = ["-c", "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"]


def worker(mode: str, pk: int, env: dict | None = None) -> dict:
    # The environment (settings, database, media) is inherited from run.py.
    command = [sys.executable, "-m", "bench.worker", mode, str(pk)]
    done = subprocess.run(  # noqa: S603 (our own argument list, no shell)
        [sys.executable, *LAUNCHER, *command],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env=env,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.worker {mode} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def cold_runs(pk: int, runs: int, env: dict | None = None) -> dict:
    worker("cold", pk, env=env)  # warm-up: the OS page cache (and any bytecode cache)
    reports = [worker("cold", pk, env=env) for _ in range(runs)]
    # The best of the runs, as for every in-process timing (bench/common.py).
    first = min(r["render_ms"][0] for r in reports)
    second = min(r["render_ms"][1] for r in reports)
    boot = statistics.median(r["boot_ms"] for r in reports)
    return {"first_ms": first, "second_ms": second, "ratio": first / second, "boot_ms": boot}


def bytecode_cached() -> bool:
    """Whether imports here can use compiled bytecode (.pyc) for the installed packages."""
    import weasyprint

    return bool(sys.pycache_prefix) or (Path(weasyprint.__file__).parent / "__pycache__").is_dir()


def measure_cold_start(results: Results, data, workdir: Path) -> None:
    pk = data.drafts[8].pk
    as_installed = cold_runs(pk, COLD_RUNS)
    # Diagnosis, not a goal: the same worker with the bytecode of every module
    # cached, as a deployment built with `uv sync --compile-bytecode` has (here in
    # a temp folder, never in .venv). Modules imported lazily by the first render
    # are otherwise compiled from source then.
    cached_env = {**os.environ, "PYTHONPYCACHEPREFIX": str(workdir / "pycache")}
    cached_env.pop("PYTHONDONTWRITEBYTECODE", None)
    with_bytecode = cold_runs(pk, 2, cached_env)
    results.add(
        "cold start: first handout (8 exercises) in a new worker vs the second",
        as_installed["first_ms"],
        "ms",
        goal="first render under 1.5× a warm one (ratio < 1.50)",
        met=as_installed["ratio"] < 1.5,
        floor_name="second render, same process",
        floor_value=as_installed["second_ms"],
        boot_ms=as_installed["boot_ms"],
        bytecode_cached_here=bytecode_cached(),
        python_dont_write_bytecode=os.environ.get("PYTHONDONTWRITEBYTECODE", ""),
        with_bytecode_cached={k: round(v, 2) for k, v in with_bytecode.items()},
        runs=COLD_RUNS,
    )


def measure_memory(results: Results, data) -> None:
    runs = [worker("memory", data.drafts[50].pk) for _ in range(2)]
    peak = max(r["peak_rss_mb"] for r in runs)
    results.add(
        "peak memory (RSS) rendering a 50-exercise handout",
        peak,
        "MB",
        goal="under 300 MB",
        met=peak < 300,
        rss_after_boot_mb=max(r["rss_after_boot_mb"] for r in runs),
        vm_hwm_mb=max(r["vm_hwm_mb"] for r in runs),
        runs=len(runs),
    )
