"""``make bench``: OpenHEP's benchmarks, in a throw-away database, with a table and
bench/results.json at the end. See bench/README.md for what each number means.

    .venv/bin/python -m bench.run                       # SQLite (a temp file)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.run
    .venv/bin/python -m bench.run --only search         # one measurement (or a,b,c)

With PostgreSQL, DATABASE_URL only says which server to use: the bench creates
its own database (openhep_bench_<pid>) there and drops it at the end. Nothing
is written to var/ (the database, media and static files live in a temp folder).
The exit status is 1 if a measurement could not be taken, not when a goal is missed.

``--only`` builds the same data but takes only the named measurements, prints
them, and leaves bench/results*.json alone: those keep the last full run.
``--only clinics`` (PostgreSQL; its own databases, about a minute) writes
bench/results-clinics-<database>.json instead.
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql", "psql")


class BenchDatabase:
    """A fresh PostgreSQL database of our own on the server DATABASE_URL names."""

    def __init__(self, server_url: str, suffix: str = ""):
        self.server = urlsplit(server_url)
        self.name = f"openhep_bench_{os.getpid()}" + (f"_{suffix}" if suffix else "")
        self.extra: list[BenchDatabase] = []  # more databases of this run (bench/clinics.py)

    def _admin(self):
        import psycopg

        # The maintenance database first: the one in the URL need not exist.
        last_error = None
        for dbname in ("postgres", self.server.path.lstrip("/")):
            url = urlunsplit(self.server._replace(scheme="postgresql", path=f"/{dbname}"))
            try:
                return psycopg.connect(url, autocommit=True)
            except psycopg.OperationalError as error:
                last_error = error
        raise last_error

    def create(self, template: str | None = None) -> str:
        from psycopg import sql

        create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name))
        if template:  # a file copy of a database nobody is connected to
            create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with self._admin() as conn:
            conn.execute(create)
        return urlunsplit(self.server._replace(path=f"/{self.name}"))

    def another(self, suffix: str, template: str | None = None) -> str:
        """One more database on the same server, dropped with this one; its name."""
        other = BenchDatabase(urlunsplit(self.server), suffix)
        self.extra.append(other)
        other.create(template)
        return other.name

    def drop(self) -> None:
        from psycopg import sql

        for other in reversed(self.extra):
            other.drop()
        with self._admin() as conn:
            # FORCE: a connection left open by a killed worker must not keep it alive.
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
            )


def configure(database_url: str, workdir: Path) -> None:
    """The environment openhep/settings.py reads, for this process and every child."""
    (workdir / "media").mkdir()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        PYTHONPATH=str(ROOT),
        SECRET_KEY="openhep-bench-only-not-a-secret",
        DEBUG="0",  # as in production (templates, no query log, manifest static URLs)
        DATABASE_URL=database_url,
        MEDIA_ROOT=str(workdir / "media"),
        STATIC_ROOT=str(workdir / "static"),
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",  # testserver: Django's test Client
        EMAIL_URL="console:",
        TASKS_BACKEND="django.tasks.backends.immediate.ImmediateBackend",
        ALLOW_IMMEDIATE_TASKS="1",  # nothing is emailed in the bench; see openhep/checks.py
        SITE_URL="",
        LOG_LEVEL="WARNING",
    )


def machine(database: str) -> dict:
    from django.db import connection

    meminfo = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()
    info = {
        "nproc": os.cpu_count(),
        "memory_gb": round(int(meminfo[1]) / 1024 / 1024, 1),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "django": version("django"),
        "weasyprint": version("weasyprint"),
        "playwright": version("playwright"),
        "chromium": _output(["/usr/bin/chromium", "--version"]),
        "wrk": _output(["wrk", "--version"]).split(" [")[0],
    }
    with connection.cursor() as cursor:
        if database == "postgresql":
            cursor.execute("SHOW server_version")
            info["postgresql"] = cursor.fetchone()[0]
        else:
            cursor.execute("SELECT sqlite_version()")
            info["sqlite"] = cursor.fetchone()[0]
    return info


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def _output(command: list[str]) -> str:
    try:
        # A fixed argument list, no shell: nothing untrusted reaches it.
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)  # noqa: S603
        return (done.stdout or done.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "not found"


def step(message: str, started: float) -> None:
    print(f"[{time.perf_counter() - started:6.1f}s] {message}", flush=True)


# The measurements --only can name, in the order a full run takes them.
MEASUREMENTS = (
    "queries",
    "render",
    "download",
    "preview",
    "cold-start",
    "memory",
    "search",
    "load",
    "clinics",
)


def measure_all(
    database: str,
    workdir: Path,
    started: float,
    only: tuple[str, ...] = MEASUREMENTS,
    bench_db: BenchDatabase | None = None,
) -> tuple[list[dict], dict, bool]:
    import django

    django.setup()
    from django.core.management import call_command

    from bench import clinics, handout, load, pages, preview, process
    from bench import data as bench_data
    from bench.common import Results

    results = Results(database)
    failed = False

    def attempt(label: str, fn, *args, **kwargs):
        """One measurement; if it breaks, say so in the results and go on with the rest."""
        nonlocal failed
        step(label, started)
        try:
            return fn(*args, **kwargs)
        except Exception as error:
            failed = True
            traceback.print_exc()
            results.add(
                label, None, "", goal="(could not be measured)", met=False, error=repr(error)
            )

    step("migrating the bench database and collecting static files", started)
    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)
    if set(only) == {"clinics"}:  # builds its own databases: skip the shared data
        only = (*only, "no-data")
    else:
        step("building data: library, clinic, 10 patients, 100 exercises, prescriptions", started)
        data = bench_data.build()
    if "queries" in only:
        small = attempt("query counts at the small size", pages.query_counts, data, size="small")
    if "no-data" not in only:
        step("growing to 1,000 patients and 10,000 exercises", started)
        bench_data.grow()
    if "queries" in only:
        large = attempt("query counts at the large size", pages.query_counts, data, size="large")
        if small and large:
            pages.report_query_counts(results, small, large)
    if "render" in only:
        render = "handout render: app, WeasyPrint alone, Chromium"
        attempt(render, handout.measure_render, results, data, workdir)
    if "download" in only:
        download = "issued handout download vs rendering again"
        attempt(download, handout.measure_download, results, data)
    if "preview" in only:
        after_pause = "Preview handout after a change and a pause vs Chromium"
        attempt(after_pause, preview.measure_preview, results, data, workdir)
    if "cold-start" in only:
        cold = "cold start (fresh worker processes)"
        attempt(cold, process.measure_cold_start, results, data, workdir)
    if "memory" in only:
        attempt("peak memory, 50-exercise handout", process.measure_memory, results, data)
    if "search" in only:
        attempt("library search latency", pages.measure_search_latency, results, data)
    if "load" in only:
        under_load = "under load (gunicorn + wrk)"
        attempt(under_load, load.measure_load, results, data, workdir, database=database)
    if "clinics" in only:
        attempt(
            f"many clinics ({clinics.CLINICS}) vs one: clinic pages",
            clinics.measure_clinics,
            results,
            make_database=bench_db.another if bench_db else None,
            started=started,
        )
    return results, machine(database), failed


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description="OpenHEP's benchmarks (bench/README.md)."
    )
    parser.add_argument(
        "--only",
        metavar="NAME[,NAME…]",
        help=f"take only these measurements ({', '.join(MEASUREMENTS)}); "
        "bench/results*.json are then left as they are",
    )
    args = parser.parse_args(argv)
    if args.only:
        names = tuple(name.strip() for name in args.only.split(",") if name.strip())
        unknown = sorted(set(names) - set(MEASUREMENTS))
        if unknown or not names:
            choices = ", ".join(MEASUREMENTS)
            parser.error(f"--only: unknown {', '.join(unknown)}; choose from {choices}")
        args.only = names
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    os.chdir(ROOT)
    server_url = os.environ.get("DATABASE_URL", "").strip()
    database = "postgresql" if server_url.split(":", 1)[0] in POSTGRES_SCHEMES else "sqlite"
    if server_url and database == "sqlite" and not server_url.startswith("sqlite"):
        print(f"DATABASE_URL must be PostgreSQL or empty, not {server_url.split(':')[0]}:")
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="openhep-bench-"))
    bench_db = BenchDatabase(server_url) if database == "postgresql" else None
    try:
        if bench_db:
            url = bench_db.create()
            step(f"PostgreSQL: created database {bench_db.name}", started)
        else:
            url = f"sqlite:///{workdir / 'bench.sqlite3'}"  # never var/db.sqlite3
            step(f"SQLite: {workdir / 'bench.sqlite3'}", started)
        configure(url, workdir)
        results, info, failed = measure_all(
            database, workdir, started, args.only or MEASUREMENTS, bench_db
        )
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        if bench_db:
            bench_db.drop()
            step(f"PostgreSQL: dropped database {bench_db.name}", started)
        shutil.rmtree(workdir, ignore_errors=True)

    total = round(time.perf_counter() - started, 1)
    info["total_seconds"] = total
    print()
    print("Machine: " + ", ".join(f"{k} {v}" for k, v in info.items()))
    print(results.table())
    if args.only == ("clinics",) and database == "postgresql":
        # Runs alone in about a minute (a full run needs wrk and 6–7 minutes), so it
        # keeps its own latest run too; a full run also puts it in results-<database>.json.
        path = BENCH / f"results-clinics-{database}.json"
        path.write_text(
            json.dumps({"machine": info, "results": results.items}, indent=2, ensure_ascii=False)
            + "\n"
        )
        print(f"\nWrote {path.relative_to(ROOT)}.")
        return 1 if failed else 0
    if args.only:
        # A partial run: print every field (the diagnosis ones too), overwrite nothing.
        print(json.dumps(results.items, indent=2, ensure_ascii=False))
        print(f"\n--only {','.join(args.only)}: bench/results*.json left as they were.")
        return 1 if failed else 0
    # results.json: the latest run, a list of measurements. results-<database>.json
    # keeps each database's latest run with the machine it came from.
    (BENCH / "results.json").write_text(
        json.dumps(results.items, indent=2, ensure_ascii=False) + "\n"
    )
    (BENCH / f"results-{database}.json").write_text(
        json.dumps({"machine": info, "results": results.items}, indent=2, ensure_ascii=False) + "\n"
    )
    missed = [r["name"] for r in results.items if r["met"] is False]
    print(f"\n{len(results.items)} measurements, {len(missed)} goal(s) missed, {total} s in all.")
    print("Wrote bench/results.json and " + f"bench/results-{database}.json.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
