"""Browser tests: Playwright drives Debian's Chromium (Playwright's own browser
download does not work offline). Without Chromium they are skipped with a
reason, except in CI (CI=true), where a missing browser is a failure."""

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
# axe-core from npm (package-lock.json; `make test` installs it with npm ci).
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# Playwright's sync API runs an event loop in this thread; the ORM calls made
# by fixtures here are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Assertions wait as long as actions do (page.set_default_timeout below): with
# the suite in parallel, a page that renders a handout can take over expect()'s 5 s.
expect.set_options(timeout=15_000)


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        if in_ci():
            pytest.fail(f"{AXE} is missing: CI must install it (make test runs npm ci).")
        pytest.skip("axe-core is not installed (npm ci)")
    return AXE.read_text()


@pytest.fixture
def axe(axe_source):
    """``axe(page)``: the page's WCAG 2.2 A/AA violations found by axe-core, as
    "rule: first element" strings (an empty list when there are none)."""

    def check(page) -> list[str]:
        page.add_script_tag(content=axe_source)
        return page.evaluate(
            """async (tags) => (await axe.run(document, {runOnly: tags})).violations
                .map(v => `${v.id}: ${v.nodes[0].target.join(' ')}`)""",
            AXE_RULES,
        )

    return check


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        if in_ci():
            pytest.fail(f"Chromium not found at {CHROMIUM}: CI must install it (.ci/run does).")
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    blocked = []
    page.on("console", lambda m: "Content Security Policy" in m.text and blocked.append(m.text))
    yield page
    assert not blocked, f"The page broke its Content Security Policy: {blocked}"
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
