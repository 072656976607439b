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
