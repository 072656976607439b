"""Keyboard focus is visible on the teal navigation bar: a white outline, not Bootstrap's
faint teal ring (teal on teal, which could not be seen)."""

from tests.browser.test_foundation_flow import demo, log_in  # noqa: F401 (fixture)

OUTLINE = """(el) => { const s = getComputedStyle(el);
    return [s.outlineStyle, s.outlineColor, parseFloat(s.outlineWidth)]; }"""


def test_focus_on_the_navigation_bar_is_white(page, live_server, demo):  # noqa: F811
    log_in(page, live_server)
    for name in ("Patients", "Exercise library"):
        link = page.locator(".app-nav").get_by_role("link", name=name)
        link.focus()
        page.keyboard.press("Shift+Tab")  # Focus by keyboard, as :focus-visible needs.
        page.keyboard.press("Tab")
        assert link.evaluate("(el) => el === document.activeElement")
        style, colour, width = link.evaluate(OUTLINE)
        assert style == "solid" and colour == "rgb(255, 255, 255)" and width >= 2, name
    page.set_viewport_size({"width": 390, "height": 844})
    toggler = page.locator(".app-nav .navbar-toggler")
    toggler.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    style, colour, width = toggler.evaluate(OUTLINE)
    assert style == "solid" and colour == "rgb(255, 255, 255)" and width >= 2
