"""Measurements 1 and 2: rendering a handout, and downloading an issued one.

1. The app's render (``render_pdf`` from a snapshot: template, our URL
   fetcher, cached stylesheet, PDF/UA-1) against two floors on the very same
   HTML: WeasyPrint alone, and Chromium printing it.
2. Downloading an issued handout (the stored bytes) against rendering it again.
"""

import hashlib
import io
import os
import re
import time
from pathlib import Path
from unittest import mock
from urllib.parse import unquote

from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader
from weasyprint import CSS, HTML, URLFetcher
from weasyprint.text.fonts import FontConfiguration

from bench.common import Results, interleaved, summary, tasks_only_taken
from bench.data import PROGRAM_URL
from bench.pages import get, logged_in
from prescriptions import handouts
from prescriptions import views as prescription_views
from prescriptions.handout_images import shared_images
from prescriptions.selectors import handout_snapshot, prescription_for_handout

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# More runs where a run is cheap; a 50-exercise render takes seconds.
RUNS = {1: 15, 8: 13, 20: 8, 50: 6}
DOWNLOAD_RUNS = 7
DOWNLOAD_VARIANTS = (
    "render",
    "download, first after a render",
    "download",
    "download without the audit row",
    "/healthz",
)
PRIVATE_URL = re.compile(r"\b(static|media):([^\"')\s]+)")


def file_urls(text: str) -> str:
    """static:/media: URLs (our fetcher's private schemes) as file:// URLs of the
    same files, so plain WeasyPrint and Chromium load exactly what the app loads."""

    def to_file(match):
        scheme, name = match.group(1), unquote(match.group(2)).lstrip("/")
        path = finders.find(name) if scheme == "static" else Path(settings.MEDIA_ROOT) / name
        return Path(path).resolve().as_uri()

    return PRIVATE_URL.sub(to_file, text)


def pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def chromium_cpu_seconds() -> tuple[float, set[int]]:
    """CPU time (user + system) of the Chromium processes this process started (through
    Playwright's driver), in seconds, and their ids. Read from /proc: Chromium's work
    is done in its own processes, which this process's CPU clock does not see."""
    tick = os.sysconf("SC_CLK_TCK")
    parents, cpu, names = {}, {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # gone meanwhile
            continue
        name, fields = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :]
        values = fields.split()
        pid = int(entry)
        parents[pid], names[pid] = int(values[1]), name
        cpu[pid] = (int(values[11]) + int(values[12])) / tick
    ours, frontier = set(), {os.getpid()}
    while frontier:
        ours |= frontier
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - ours
    chromium = {pid for pid in ours if names[pid].startswith("chrom")}
    return sum(cpu[pid] for pid in chromium), chromium


def issue_times(data) -> dict[int, dict]:
    """What "Save and issue" costs the therapist now that the handout is drawn by a task
    (issue 19): ``prescription_issue`` on fresh drafts like ``data.drafts[n]``, with a
    task backend that only takes the task (the worker draws it elsewhere), in ms."""
    from bench.data import prescription
    from clinic.audit import Actor
    from prescriptions import services

    times = {}
    for n, draft in data.drafts.items():
        exercises = [item.exercise for item in draft.items.order_by("order")]
        fresh = [
            prescription(draft.patient, data.user, exercises, title=f"Issued at once {n}.{k}")
            for k in range(RUNS[n])
        ]
        walls, cpus = [], []
        with tasks_only_taken():
            for rx in fresh:
                start, start_cpu = time.perf_counter(), time.process_time()
                handout = services.prescription_issue(prescription=rx, actor=Actor(data.user))
                walls.append((time.perf_counter() - start) * 1000)
                cpus.append((time.process_time() - start_cpu) * 1000)
                if handout.is_ready:
                    raise RuntimeError("the issue drew its handout: the task was not deferred")
        times[n] = summary(walls, cpus)
    return times


def measure_render(results: Results, data, workdir: Path) -> None:
    from playwright.sync_api import sync_playwright

    folder = workdir / "floor"
    folder.mkdir()
    css_path = folder / "handout.css"
    css_path.write_text(file_urls(Path(finders.find("handouts/handout.css")).read_text()))
    # The floor's stylesheet is parsed once, as the app's is (cached per process),
    # and its fetcher (WeasyPrint's default, which reads file:// URLs) is made once:
    # making one costs ~37 ms (urllib builds an SSL context), work the floor need not do.
    floor_fetcher = URLFetcher()
    floor_fonts = FontConfiguration()
    floor_css = CSS(filename=str(css_path), font_config=floor_fonts, url_fetcher=floor_fetcher)

    # Snapshots and HTML first: Playwright's sync API runs an event loop in this
    # thread, and Django refuses database queries while one is running.
    cases = {}
    for n in RUNS:
        snapshot = handout_snapshot(prescription_for_handout(data.drafts[n].pk))
        html_path = folder / f"handout-{n}.html"
        # As an issued handout: a QR code on every card (the bench's videos) and the
        # patient page's on the first page.
        html = handouts.render_html(snapshot, draft=False, program_url=PROGRAM_URL)
        html_path.write_text(file_urls(html))
        # Chromium gets the same stylesheet as a <link>: WeasyPrint is handed it
        # separately, Chromium can only find it in the document.
        chrome_path = folder / f"handout-{n}-chromium.html"
        chrome_path.write_text(
            html_path.read_text().replace(
                "</head>", f'<link rel="stylesheet" href="{css_path.as_uri()}"></head>', 1
            )
        )
        cases[n] = (snapshot, html_path, chrome_path)

    # Diagnosis: what making a HandoutURLFetcher costs (pdf_from_html makes one per
    # render). It was ~30 ms while urllib loaded the system CA certificates into a
    # new SSL context each time; handouts.unused_ssl_context() fixed that, and this
    # keeps watch over it.
    fetcher_cost = interleaved({"fetcher": handouts.HandoutURLFetcher}, runs=9)["fetcher"][
        "cpu_best"
    ]
    issued = issue_times(data)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()  # one warm browser and tab for every Chromium run
        try:
            for n, (snapshot, html_path, chrome_path) in cases.items():
                out = {}

                def app(snapshot=snapshot, out=out):
                    out["app"] = handouts.render_pdf(snapshot, draft=False, program_url=PROGRAM_URL)

                def cold(snapshot=snapshot, out=out):
                    # A handout this process has drawn none of the pictures of yet: the
                    # shared image cache emptied first (prescriptions.handout_images).
                    shared_images.clear()
                    out["cold"] = handouts.render_pdf(
                        snapshot, draft=False, program_url=PROGRAM_URL
                    )

                def weasyprint(html_path=html_path, out=out):
                    # Same options as pdf_from_html (tagged PDF/UA-1), so the work is
                    # identical; only the template, the fetcher and the app's glue differ.
                    out["weasyprint"] = HTML(
                        filename=str(html_path), url_fetcher=floor_fetcher
                    ).write_pdf(
                        stylesheets=[floor_css],
                        font_config=floor_fonts,
                        pdf_variant="pdf/ua-1",
                        custom_metadata=False,
                    )

                def chromium(chrome_path=chrome_path, out=out):
                    page.goto(chrome_path.as_uri(), wait_until="load")
                    out["chromium"] = page.pdf(
                        prefer_css_page_size=True, print_background=True, tagged=True
                    )

                variants = {"app": app, "weasyprint": weasyprint, "chromium": chromium}
                variants["cold"] = cold
                times = interleaved(variants, runs=RUNS[n])
                counts = {name: pages(pdf) for name, pdf in out.items()}
                if not counts["app"] == counts["weasyprint"] == counts["cold"]:
                    raise RuntimeError(f"floor differs from the app's handout: {counts} pages")
                app_t, floor_t, chrome_t = (times[k] for k in ("app", "weasyprint", "chromium"))
                cold_t = times["cold"]
                # Chromium's CPU, read from /proc around a block of the same prints (its
                # clock ticks are 10 ms: only a sum over many prints is exact enough).
                chrome_cpu, chrome_pids = chromium_cpu_seconds()
                for _ in range(RUNS[n]):
                    chromium()
                chrome_cpu_after, chrome_pids_after = chromium_cpu_seconds()
                chrome_per_cpu_s = RUNS[n] / (chrome_cpu_after - chrome_cpu)
                app_per_cpu_s = 1000 / app_t["cpu_mean"]
                label = f"handout render, {n} exercise{'s' if n > 1 else ''}"
                diagnosis = {"fetcher_construction_ms": fetcher_cost} if n <= 8 else {}
                # App and floor run in this process, on the same HTML: their CPU time
                # is the work each does, and the steadiest measure on a busy machine.
                results.add(
                    f"{label}, vs WeasyPrint alone (CPU time)",
                    app_t["cpu_best"],
                    "ms",
                    goal="app adds under 10% over WeasyPrint alone (ratio < 1.10)",
                    met=app_t["cpu_best"] < 1.10 * floor_t["cpu_best"],
                    floor_name="WeasyPrint alone, same HTML",
                    floor_value=floor_t["cpu_best"],
                    wall_ms=app_t["best"],
                    floor_wall_ms=floor_t["best"],
                    median_cpu_ms=app_t["cpu_median"],
                    floor_median_cpu_ms=floor_t["cpu_median"],
                    pages=counts["app"],
                    runs=RUNS[n],
                    **diagnosis,
                )
                # Chromium works in its own processes: wall-clock time, what a user waits.
                results.add(
                    f"{label}, vs Chromium",
                    app_t["best"],
                    "ms",
                    goal="no slower than Chromium (ratio ≤ 1.00)",
                    met=app_t["best"] <= chrome_t["best"],
                    floor_name="Chromium page.pdf(), same HTML, warm browser",
                    floor_value=chrome_t["best"],
                    median_ms=app_t["median"],
                    floor_median_ms=chrome_t["median"],
                    weasyprint_alone_ms=floor_t["best"],
                    pages=counts["app"],
                    chromium_pages=counts["chromium"],
                    runs=RUNS[n],
                )
                # What the therapist waits for on "Save and issue": the request's own
                # work, the handout being drawn by the worker meanwhile (issue 19).
                exercises = f"{n} exercise{'s' if n > 1 else ''}"
                results.add(
                    f"Save and issue, {exercises}: the issue's work vs Chromium",
                    issued[n]["best"],
                    "ms",
                    goal="the therapist waits no longer than Chromium's render (ratio ≤ 1.00)",
                    met=issued[n]["best"] <= chrome_t["best"],
                    floor_name="Chromium page.pdf() of the same handout, warm browser",
                    floor_value=chrome_t["best"],
                    median_ms=issued[n]["median"],
                    floor_median_ms=chrome_t["median"],
                    runs=RUNS[n],
                )
                # Reported, no goal (issue 19): a handout no cache helps with, against
                # Chromium, and how many handouts a CPU-second draws in each.
                results.add(
                    f"{label}, cold miss (no picture decoded yet) vs Chromium",
                    cold_t["best"],
                    "ms",
                    goal="none: reported (what a preview no cache holds costs)",
                    met=None,
                    floor_name="Chromium page.pdf(), same HTML, warm browser",
                    floor_value=chrome_t["best"],
                    median_ms=cold_t["median"],
                    floor_median_ms=chrome_t["median"],
                    warm_ms=app_t["best"],
                    same_pdf_as_warm=out["cold"] == out["app"],
                    cpu_ms=cold_t["cpu_best"],
                    warm_cpu_ms=app_t["cpu_best"],
                    runs=RUNS[n],
                )
                results.add(
                    f"{label}: throughput, WeasyPrint (the app) vs Chromium",
                    app_per_cpu_s,
                    "handouts per CPU-second",
                    goal="none: reported (ratio under 1: WeasyPrint draws fewer per CPU-second)",
                    met=None,
                    floor_name="Chromium, handouts per CPU-second of its own processes",
                    floor_value=chrome_per_cpu_s,
                    app_cpu_mean_ms=app_t["cpu_mean"],
                    chromium_cpu_mean_ms=1000 / chrome_per_cpu_s,
                    chromium_processes=len(chrome_pids_after),
                    chromium_processes_gone=len(chrome_pids - chrome_pids_after),
                    runs=RUNS[n],
                )
                # Not a goal: the Chromium goal measured on WeasyPrint itself. No app
                # built on WeasyPrint renders faster than WeasyPrint alone does, so
                # where this is over 1.00 the goal above is out of the app's reach.
                results.add(
                    f"{label}: WeasyPrint alone vs Chromium (the app's floor)",
                    floor_t["best"],
                    "ms",
                    goal="none: the floor of the Chromium goal (app ÷ Chromium cannot beat it)",
                    met=None,
                    floor_name="Chromium page.pdf(), same HTML, warm browser",
                    floor_value=chrome_t["best"],
                    median_ms=floor_t["median"],
                    floor_median_ms=chrome_t["median"],
                    runs=RUNS[n],
                )
        finally:
            browser.close()


def measure_download(results: Results, data) -> None:
    issued = data.issued
    issued.refresh_from_db()
    stored = issued.handout
    client = logged_in(data)
    url = f"/prescriptions/{issued.pk}/handout.pdf"

    def download():
        response = client.get(url)
        body = b"".join(response.streaming_content)
        response.close()
        if response.status_code != 200 or hashlib.sha256(body).hexdigest() != stored.sha256:
            raise RuntimeError(f"GET {url} did not return the stored handout")

    def download_without_audit():
        # Diagnosis only: the same request without the audit row the view writes
        # (who printed which patient's handout), to put a number on that row.
        with mock.patch.object(prescription_views, "audit_record", lambda *args, **kwargs: None):
            download()

    def render_again():
        handouts.render_pdf(stored.snapshot, draft=False)

    times = {name: ([], []) for name in DOWNLOAD_VARIANTS}  # wall, cpu (ms)

    def timed(name, fn):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        times[name][1].append((time.process_time() - start_cpu) * 1000)
        times[name][0].append((time.perf_counter() - start) * 1000)

    for fn in (render_again, download, download, download_without_audit, download_without_audit):
        fn()  # warm-up
    # In turns, as interleaved() does, but the download is timed as the second of
    # two: the first request after a 200 ms render runs on caches the render has
    # just filled with its own data, and takes a third to a half longer. That one
    # is kept as a diagnosis.
    for _ in range(DOWNLOAD_RUNS):
        timed("render", render_again)
        timed("download, first after a render", download)
        timed("download", download)
        timed("download without the audit row", download_without_audit)
        timed("/healthz", lambda: get(client, "/bench/select1"))  # SELECT 1, logged in.
    best = {name: summary(*times[name]) for name in times}
    # Not a goal, but the first thing to look at if the download is slow.
    with CaptureQueriesContext(connection) as queries:
        download()
    audit_inserts = [q for q in queries.captured_queries if "INSERT" in q["sql"]]
    downloads, renders = best["download"], best["render"]
    without_audit = best["download without the audit row"]["best"]
    results.add(
        "issued handout download (8 exercises) vs rendering it again",
        downloads["best"],
        "ms",
        goal="over 100× faster than rendering again (ratio < 0.01)",
        met=downloads["best"] * 100 < renders["best"],
        floor_name="render_pdf of its stored snapshot",
        floor_value=renders["best"],
        speedup=round(renders["best"] / downloads["best"], 1),
        queries=len(queries),
        audit_inserts=len(audit_inserts),
        median_ms=downloads["median"],
        floor_median_ms=renders["median"],
        first_after_render_ms=best["download, first after a render"]["best"],
        without_audit_row_ms=without_audit,
        audit_row_ms=downloads["best"] - without_audit,
        speedup_without_audit_row=round(renders["best"] / without_audit, 1),
        logged_in_healthz_ms=best["/healthz"]["best"],
        runs=downloads["runs"],
    )
