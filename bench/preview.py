"""Measurement: "Preview handout" after a change and a pause (issue 19).

What the therapist feels in the builder: they change a dose (the builder autosaves it),
pause for the length of a render while the worker draws the preview into the cache,
then press "Preview handout". The row times that last request, the whole of it (the
audit row, the snapshot and its hash, the cache read), against Chromium's
``page.pdf()`` of the same handout's HTML, at 1/8/20/50 exercises.

Each run changes a dose through the real autosave view, with a task backend that only
takes the task (``DummyBackend``), and the pause is that task run here, synchronously,
as the worker would run it. Each run's dose is new, so no run finds an older run's
drawing: without the task, every preview would be a cold render.
"""

import time
from pathlib import Path

from django.contrib.staticfiles import finders

from bench.common import Results, summary, tasks_only_taken
from bench.data import prescription
from bench.handout import CHROMIUM, CHROMIUM_ARGS, RUNS, file_urls
from bench.pages import logged_in
from prescriptions import handouts, links
from prescriptions.preview_tasks import prerender_preview
from prescriptions.selectors import handout_snapshot, prescription_for_handout


def autosave_form(rx, reps: int) -> dict:
    """The builder's plan form as autosave.js posts it, with the first dose changed."""
    items = list(rx.items.order_by("order"))
    data = {
        "title": rx.title,
        "advice": rx.advice,
        "review_date": rx.review_date.isoformat() if rx.review_date else "",
        "log_weeks": str(rx.log_weeks),
        "items-TOTAL_FORMS": str(len(items)),
        "items-INITIAL_FORMS": str(len(items)),
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
    }
    for i, item in enumerate(items):
        for name in ("hold_seconds", "reps", "sets", "times_per_day", "days_per_week"):
            value = reps if (i, name) == (0, "reps") else getattr(item, name)
            data[f"items-{i}-{name}"] = "" if value is None else str(value)
        data[f"items-{i}-side"] = item.side
        data[f"items-{i}-note"] = item.note
        data[f"items-{i}-order"] = str(item.order)
        data[f"items-{i}-id"] = str(item.pk)
    return data


def preview_after_a_pause(data) -> dict[int, dict]:
    """Per size: the preview request's time (ms) after an autosave and its task."""
    client = logged_in(data)
    times = {}
    with tasks_only_taken(OPENHEP_PREVIEW_PRERENDER=True) as backend:
        for n, draft in data.drafts.items():
            exercises = [item.exercise for item in draft.items.order_by("order")]
            rx = prescription(draft.patient, data.user, exercises, title=f"Previewed {n}")
            url = f"/prescriptions/{rx.pk}/handout.pdf"
            walls, cpus = [], []
            for run in range(RUNS[n] + 1):  # The first is a warm-up.
                backend.clear()
                saved = client.post(
                    f"/prescriptions/{rx.pk}/autosave/", autosave_form(rx, reps=2 + run)
                )
                if saved.json()["saved"] is not True:
                    raise RuntimeError(f"the autosave was refused: {saved.content!r}")
                [queued] = backend.results  # The pause: the worker draws it.
                if prerender_preview.call(*queued.args) != "drawn":
                    raise RuntimeError("the task did not draw the saved preview")
                start, start_cpu = time.perf_counter(), time.process_time()
                response = client.get(url)
                cpu = (time.process_time() - start_cpu) * 1000
                wall = (time.perf_counter() - start) * 1000
                if response.status_code != 200 or not response.content.startswith(b"%PDF"):
                    raise RuntimeError(f"GET {url}: {response.status_code}")
                if run:
                    walls.append(wall)
                    cpus.append(cpu)
            times[n] = summary(walls, cpus)
    return times


def chromium_times(data, workdir: Path) -> dict[int, dict]:
    """Chromium's ``page.pdf()`` of each draft's handout HTML (the preview's), warm."""
    from playwright.sync_api import sync_playwright

    folder = workdir / "preview-floor"
    folder.mkdir()
    css_path = folder / "handout.css"
    css_path.write_text(file_urls(Path(finders.find("handouts/handout.css")).read_text()))
    # The HTML first: Django refuses database queries while Playwright's loop runs.
    pages = {}
    for n, draft in data.drafts.items():
        snapshot = handout_snapshot(prescription_for_handout(draft.pk))
        html = handouts.render_html(snapshot, draft=True, program_url=links.sample_page_url())
        link = f'<link rel="stylesheet" href="{css_path.as_uri()}"></head>'
        path = folder / f"preview-{n}.html"
        path.write_text(file_urls(html).replace("</head>", link, 1))
        pages[n] = path
    times = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        try:
            for n, path in pages.items():
                walls = []
                for run in range(RUNS[n] + 1):
                    start = time.perf_counter()
                    page.goto(path.as_uri(), wait_until="load")
                    page.pdf(prefer_css_page_size=True, print_background=True, tagged=True)
                    if run:
                        walls.append((time.perf_counter() - start) * 1000)
                times[n] = summary(walls, walls)
        finally:
            browser.close()
    return times


def measure_preview(results: Results, data, workdir: Path) -> None:
    previews = preview_after_a_pause(data)
    chromium = chromium_times(data, workdir)
    for n in RUNS:
        mine, floor = previews[n], chromium[n]
        exercises = f"{n} exercise{'s' if n > 1 else ''}"
        results.add(
            f"Preview handout after a change and a pause, {exercises}: "
            "the click's work vs Chromium",
            mine["best"],
            "ms",
            goal="the therapist waits no longer than Chromium's render (ratio ≤ 1.00)",
            met=mine["best"] <= floor["best"],
            floor_name="Chromium page.pdf() of the same handout, warm browser",
            floor_value=floor["best"],
            median_ms=mine["median"],
            floor_median_ms=floor["median"],
            cpu_ms=mine["cpu_best"],
            runs=mine["runs"],
        )
