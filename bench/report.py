"""Markdown tables of the latest runs, for bench/README.md.

.venv/bin/python -m bench.report     # reads bench/results-sqlite.json and -postgresql.json
"""

import json
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def fmt(value, unit: str) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,} {unit}"
    number = f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    return f"{number} {unit}"


def table(results: list[dict]) -> str:
    lines = [
        "| Measurement | Value | Compared with | Ratio | Goal | Met |",
        "| --- | ---: | --- | ---: | --- | --- |",
    ]
    for r in results:
        value = "skipped" if r.get("skipped") else fmt(r["value"], r["unit"])
        floor = (
            f"{fmt(r['floor_value'], r['unit'])}: {r['floor_name']}" if "floor_name" in r else ""
        )
        ratio = f"{r['ratio']:.2f}×" if r.get("ratio") is not None else ""
        met = {True: "yes", False: "**no**", None: "–"}[r["met"]]
        lines.append(f"| {r['name']} | {value} | {floor} | {ratio} | {r['goal']} | {met} |")
    return "\n".join(lines)


def load_table(results: list[dict]) -> str:
    rows = [r for r in results if "p50_ms" in r]
    if not rows:
        return ""
    lines = [
        "| Under load | Requests/s | vs /bench/ok | p50 | p99 | Requests | Errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['name'].removeprefix('under load: ')} | {r['value']:,.1f} | {r['ratio']:.2f}× "
            f"| {r['p50_ms']:,.0f} ms | {r['p99_ms']:,.0f} ms | {r['requests']:,} | {r['errors']} |"
        )
    return "\n".join(lines)


def clinics_table(results: list[dict]) -> str:
    """The many-clinic pages side by side: small and large clinic, each against one clinic."""
    rows = [r for r in results if r["name"].startswith("many clinics: ") and "ratio" in r]
    if not rows:
        return ""
    lines = [
        "| Page | Clinic | Many clinics | One clinic | Ratio | Met | Index read (many) |",
        "| --- | --- | ---: | ---: | ---: | --- | --- |",
    ]
    for r in rows:
        page, clinic = r["name"].removeprefix("many clinics: ").rsplit(", ", 2)[:2]
        met = {True: "yes", False: "**no**", None: "–"}[r["met"]]
        lines.append(
            f"| {page} | {clinic} | {r['value']:.1f} ms | {r['floor_value']:.1f} ms "
            f"| {r['ratio']:.2f}× | {met} | {indexes(r.get('plans', []))} |"
        )
    return "\n".join(lines)


def indexes(plans: list[dict]) -> str:
    """The indexes (and whole-table scans) in a page's plans, each named once."""
    seen = []
    for plan in plans:
        for line in plan["plan"]:
            if " using " in line and "Scan" in line:
                name = line.split(" using ")[1].split()[0]
            elif "Bitmap Index Scan on " in line:
                name = line.split("Bitmap Index Scan on ")[1].split()[0]
            elif "Seq Scan on " in line:
                name = "seq " + line.split("Seq Scan on ")[1].split()[0]
            else:
                continue
            if name not in seen and not name.startswith(("exercises_", "seq exercises_")):
                seen.append(name)
    return ", ".join(f"`{name}`" for name in seen)


def main() -> None:
    for database in ("sqlite", "postgresql", "clinics-postgresql"):
        path = BENCH / f"results-{database}.json"
        if not path.exists():
            continue
        run = json.loads(path.read_text())
        machine = ", ".join(f"{k}: {v}" for k, v in run["machine"].items())
        print(f"### {database}\n\n{machine}\n\n{table(run['results'])}\n")
        if extra := load_table(run["results"]):
            print(f"{extra}\n")
        if extra := clinics_table(run["results"]):
            print(f"{extra}\n")


if __name__ == "__main__":
    main()
