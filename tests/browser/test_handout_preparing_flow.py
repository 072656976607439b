"""Issuing with a real worker queue: the prescription page says "Preparing handout…"
at once and turns into the PDF button by itself (htmx polling, inside the CSP) once
the worker has drawn it; the download meanwhile is a page that says so."""

from django.core.management import call_command
from playwright.sync_api import expect

from prescriptions.models import Handout, Prescription
from tests.browser.test_foundation_flow import demo, log_in  # noqa: F401 (fixture)


def scan(browser, live_server, axe, path) -> list[str]:
    """axe-core on one page at phone width."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in(page, live_server)
    page.goto(f"{live_server.url}{path}")
    try:
        return axe(page)
    finally:
        context.close()


def test_the_page_goes_from_preparing_to_ready(
    page,
    browser,
    live_server,
    demo,  # noqa: F811
    db_tasks,
    axe,
):
    draft = Prescription.objects.get(status=Prescription.Status.DRAFT)
    log_in(page, live_server)
    page.goto(f"{live_server.url}{draft.get_absolute_url()}")
    page.get_by_role("button", name="Issue", exact=True).click()
    expect(page.get_by_text("Prescription issued. The handout is being prepared")).to_be_visible()
    preparing = page.get_by_text("Preparing handout…")
    expect(preparing).to_be_visible()
    handout = Handout.objects.get(prescription=draft)
    assert handout.status == Handout.Status.PREPARING

    assert scan(browser, live_server, axe, draft.get_absolute_url()) == []
    download = f"{live_server.url}/prescriptions/{draft.pk}/handout.pdf"
    waiting = page.request.get(download)
    assert waiting.status == 503 and waiting.headers["retry-after"] == "2"
    assert "still being prepared" in waiting.text()
    assert scan(browser, live_server, axe, f"/prescriptions/{draft.pk}/handout.pdf") == []

    # The worker draws it; the open page notices by itself, without a reload.
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    handout.refresh_from_db()
    assert handout.status == Handout.Status.READY
    expect(page.get_by_role("link", name="Handout PDF")).to_be_visible()
    expect(preparing).to_be_hidden()
    ready = page.request.get(download)
    assert ready.status == 200 and ready.headers["content-type"] == "application/pdf"
    assert ready.body() == handout.pdf.read()
    assert scan(browser, live_server, axe, draft.get_absolute_url()) == []
