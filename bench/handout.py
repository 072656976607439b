"""Measurements 1 and 2: rendering a handout, and downloading an issued one.

1. The app's render (``render_pdf`` from a snapshot: template, our URL
   fetcher, cached stylesheet, PDF/UA-1) against two floors on the very same
   HTML: WeasyPrint alone, and Chromium printing it.
2. Downloading an issued handout (the stored bytes) against rendering it again.
"""

import hashlib
import io
import re
from pathlib import Path
from urllib.parse import unquote

from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader
from weasyprint import CSS, HTML, URLFetcher
from weasyprint.text.fonts import FontConfiguration

from bench.common import Results, interleaved
from bench.pages import logged_in
from prescriptions import handouts
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


def app_with_one_fetcher(snapshot):
    """Diagnosis, not a goal: pdf_from_html as it is, except that its URL fetcher
    is made once instead of per render (the fix suggested in bench/README.md)."""
    fetcher = handouts.HandoutURLFetcher()

    def render():
        html = handouts.render_html(snapshot, draft=False)
        document = HTML(string=html, url_fetcher=fetcher).render(
            stylesheets=[handouts.stylesheet()], font_config=handouts.font_config()
        )
        document.metadata.attachments = []
        return document.write_pdf(pdf_variant="pdf/ua-1", custom_metadata=False)

    return render


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
        html_path.write_text(file_urls(handouts.render_html(snapshot, draft=False)))
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
    # render; urllib's HTTPSHandler loads the system CA certificates into a new SSL
    # context every time, for a fetcher that refuses https anyway).
    fetcher_cost = interleaved({"fetcher": handouts.HandoutURLFetcher}, runs=9)["fetcher"][
        "cpu_best"
    ]

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()  # one warm browser and tab for every Chromium run
        try:
            for n, (snapshot, html_path, chrome_path) in cases.items():
                out = {}

                def app(snapshot=snapshot, out=out):
                    out["app"] = handouts.render_pdf(snapshot, draft=False)

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
                if n <= 8:
                    variants["app, fetcher made once"] = app_with_one_fetcher(snapshot)
                times = interleaved(variants, runs=RUNS[n])
                counts = {name: pages(pdf) for name, pdf in out.items()}
                if counts["app"] != counts["weasyprint"]:
                    raise RuntimeError(f"floor differs from the app's handout: {counts} pages")
                app_t, floor_t, chrome_t = (times[k] for k in ("app", "weasyprint", "chromium"))
                label = f"handout render, {n} exercise{'s' if n > 1 else ''}"
                diagnosis = {}
                if "app, fetcher made once" in times:
                    diagnosis = {
                        "app_with_fetcher_made_once_cpu_ms": times["app, fetcher made once"][
                            "cpu_best"
                        ],
                        "fetcher_construction_ms": fetcher_cost,
                    }
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
                    pages=counts["app"],
                    chromium_pages=counts["chromium"],
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

    def render_again():
        handouts.render_pdf(stored.snapshot, draft=False)

    times = interleaved(
        {"download": download, "render": render_again},
        runs=7,
        warmup=2,
    )
    # Not a goal, but the first thing to look at if the download is slow.
    with CaptureQueriesContext(connection) as queries:
        download()
    downloads, renders = times["download"], times["render"]
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
        median_ms=downloads["median"],
        floor_median_ms=renders["median"],
        runs=downloads["runs"],
    )
