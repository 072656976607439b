"""The exercise's page as a therapist sees it: the picture's credit names who drew it,
never a file of the code base (it said "drawn from exercises/library/poses.json")."""

from playwright.sync_api import expect

from tests.browser.test_foundation_flow import demo, log_in  # noqa: F401 (fixture)


def test_the_picture_credit_is_in_words(page, live_server, demo):  # noqa: F811
    log_in(page, live_server)
    page.get_by_role("link", name="Exercise library").click()
    page.get_by_label("Search exercises").fill("psoas")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Standing psoas stretch").click()
    credit = page.locator("figure figcaption").first
    expect(credit).to_have_text("Illustration: OpenHEP's own line drawing")
    assert ".json" not in page.content() and "exercises/library" not in page.content()


def _picture_state(page):
    """The drawing's current source and a fingerprint of its pixels now."""
    picture = page.locator("figure picture img").first
    expect(picture).to_be_visible()
    picture.page.wait_for_function("img => img.currentSrc !== ''", arg=picture.element_handle())
    source = picture.evaluate("img => img.currentSrc")
    return source, picture.screenshot()


def test_the_drawing_moves_on_screen_unless_less_motion_is_asked_for(
    page,
    browser,
    live_server,
    demo,  # noqa: F811
):
    """The exercise page shows the moving drawing (the still one prints); a reader who
    asked for less motion gets the still drawing, and the page's CSP lets the drawing's
    own keyframes run (the watch fails the test on any CSP report)."""
    log_in(page, live_server)
    page.goto(f"{live_server.url}/exercises/glute-bridge/")
    source, first = _picture_state(page)
    assert source.endswith("-moving.svg")
    frames = {first}
    for _ in range(6):  # a four-second cycle: within three seconds the picture changes
        page.wait_for_timeout(500)
        frames.add(_picture_state(page)[1])
    assert len(frames) > 1, "the drawing did not move"

    # It can be paused (anything moving for more than five seconds must be): the still
    # drawing then shows, and plays again on a second press.
    pause = page.get_by_role("button", name="Pause the movement: Glute bridge")
    pause.click()
    play = page.get_by_role("button", name="Play the movement: Glute bridge")
    expect(play).to_be_focused()
    picture = page.locator("figure picture img").first
    expect(picture).to_have_js_property("complete", True)
    assert not picture.evaluate("img => img.currentSrc").endswith("-moving.svg")
    play.click()
    expect(page.get_by_role("button", name="Pause the movement: Glute bridge")).to_be_visible()
    page.wait_for_function(
        "() => document.querySelector('figure picture img').currentSrc.endsWith('-moving.svg')"
    )

    still = browser.new_context(reduced_motion="reduce", viewport={"width": 1280, "height": 900})
    calm = still.new_page()
    log_in(calm, live_server)
    calm.goto(f"{live_server.url}/exercises/glute-bridge/")
    source, _pixels = _picture_state(calm)
    assert source.endswith(".svg") and not source.endswith("-moving.svg")
    expect(calm.get_by_role("button", name="Pause the movement: Glute bridge")).to_have_count(0)
    still.close()


def test_a_library_card_moves_while_pointed_at(page, browser, live_server, demo):  # noqa: F811
    """The library (and the builder's library) shows still drawings; the one under the
    pointer moves. A reader who asked for less motion keeps the still one."""
    log_in(page, live_server)
    page.goto(f"{live_server.url}/exercises/?q=bridge")
    card = page.locator(".exercise-card").filter(has_text="Glute bridge").first
    moving = card.locator("img.moving")
    expect(moving).to_be_hidden()
    card.hover()
    expect(moving).to_be_visible()
    # A lazy image picks its source once shown, a moment after it becomes visible.
    page.wait_for_function("img => img.currentSrc !== ''", arg=moving.element_handle())
    assert moving.evaluate("img => img.currentSrc").endswith("-moving.svg")

    calm_context = browser.new_context(reduced_motion="reduce")
    calm = calm_context.new_page()
    log_in(calm, live_server)
    calm.goto(f"{live_server.url}/exercises/?q=bridge")
    card = calm.locator(".exercise-card").filter(has_text="Glute bridge").first
    card.hover()
    expect(card.locator("img.moving")).to_be_hidden()
    calm_context.close()
