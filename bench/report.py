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


def main() -> None:
    for database in ("sqlite", "postgresql"):
        path = BENCH / f"results-{database}.json"
        if not path.exists():
            continue
        run = json.loads(path.read_text())
        machine = ", ".join(f"{k}: {v}" for k, v in run["machine"].items())
        print(f"### {database}\n\n{machine}\n\n{table(run['results'])}\n")
        if extra := load_table(run["results"]):
            print(f"{extra}\n")


if __name__ == "__main__":
    main()
