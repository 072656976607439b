"""The builder on a phone reads whole: the side is not cut ("Each sid"), the dose line
is not a word a line, and the plan's Remove box is a finger's target. axe-core on it."""

from playwright.sync_api import expect

from prescriptions.models import Prescription
from tests.browser.test_foundation_flow import demo, log_in  # noqa: F401 (fixture)


def test_the_plan_reads_whole_on_a_phone(browser, live_server, demo, axe):  # noqa: F811
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in(page, live_server)
    draft = Prescription.objects.filter(status="draft", items__isnull=False).distinct().first()
    page.goto(f"{live_server.url}/prescriptions/{draft.pk}/edit/")
    first = page.locator(".plan-item").first
    expect(first).to_be_visible()

    side = first.locator("select[name$='-side']")
    side.select_option("each")
    # The chosen words fit the box beside its arrow (Bootstrap keeps 2.25rem for it).
    room = side.evaluate(
        """(el) => { const c = document.createElement('canvas').getContext('2d');
            c.font = getComputedStyle(el).font;
            const words = c.measureText(el.options[el.selectedIndex].text).width;
            return el.clientWidth - parseFloat(getComputedStyle(el).paddingLeft) - 36 - words; }"""
    )
    assert room >= 0, f"the side's words are cut by {-room:.0f} px"

    dose = first.locator(".text-muted", has_text="·").first
    lines = dose.evaluate(
        "(el) => Math.round(el.getBoundingClientRect().height"
        " / parseFloat(getComputedStyle(el).lineHeight))"
    )
    assert lines <= 2, f"the dose line takes {lines} lines"

    remove = first.get_by_label("Remove", exact=False)
    box = remove.bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe(page) == []
    context.close()
