"""Browser tests: Playwright drives Debian's Chromium (Playwright's own browser
download does not work offline). Without Chromium they are skipped with a
reason, except in CI (CI=true), where a missing browser is a failure."""

import functools
import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

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
    return axe_text()


@functools.cache
def axe_text() -> str:
    """axe-core's script, read once per worker (the watch checks pages after every test)."""
    return AXE.read_text()


def run_axe(page, source: str, impacts: tuple[str, ...] = ()) -> list[str]:
    """The page's WCAG 2.2 A/AA violations (only those of ``impacts`` if given), as
    "rule: first element" strings. axe-core is evaluated through the DevTools protocol,
    which the page's Content Security Policy does not govern: no inline script tag, so
    the pages keep their real policy while they are checked."""
    page.evaluate(source)
    return page.evaluate(
        """async ([tags, impacts]) => (await axe.run(document, {runOnly: tags})).violations
            .filter(v => impacts.length === 0 || impacts.includes(v.impact))
            .map(v => `${v.id}: ${v.nodes[0].target.join(' ')}`)""",
        [AXE_RULES, list(impacts)],
    )


@pytest.fixture
def axe(axe_source):
    """``axe(page)``: the page's WCAG 2.2 A/AA violations found by axe-core, as
    "rule: first element" strings (an empty list when there are none)."""
    return lambda page: run_axe(page, axe_source)


# Every browser context a test opens is watched (``Watch``): each HTML page it loads is
# checked again with axe-core once the test has passed, and a serious or critical
# violation fails the test; so does a page that breaks its Content Security Policy.
# Checked page shapes are remembered for the worker's session (ids and tokens in the
# path are one shape), so a page visited by twenty tests is scanned once.
FAILING_IMPACTS = ("serious", "critical")
_scanned_shapes: set[str] = set()
_watches: list["Watch"] = []


def page_shape(url: str) -> str:
    """``/patients/12/`` and ``/patients/40/`` are one page; so are two patients' links."""
    parts = urlsplit(url)
    segments = [
        "<id>" if re.search(r"\d", part) or len(part) >= 20 else part
        for part in parts.path.split("/")
    ]
    return "/".join(segments)


class Watch:
    """One browser context of a test: the HTML pages it loaded (GET, 200, main frame)
    and what its pages said about the Content Security Policy."""

    def __init__(self, context, *, fresh_context=None):
        # A context without JavaScript is checked in a fresh one with its cookies.
        self.context, self.fresh_context = context, fresh_context
        self.pages: dict[str, str] = {}
        self.blocked: list[str] = []
        self.found: list[str] = []
        self.checked = False
        context.on("response", self._loaded)
        context.on(
            "console",
            lambda message: (
                "Content Security Policy" in message.text and self.blocked.append(message.text)
            ),
        )
        close = context.close

        def check_then_close(*args, **kwargs):
            # Tests close their own contexts in ``finally``: check the pages first.
            self.check()
            return close(*args, **kwargs)

        context.close = check_then_close

    def _loaded(self, response) -> None:
        request = response.request
        if (
            request.resource_type == "document"
            and request.method == "GET"
            and response.status == 200
            and response.headers.get("content-type", "").startswith("text/html")
            and request.frame.parent_frame is None
        ):
            self.pages.setdefault(page_shape(response.url), response.url)

    def check(self) -> None:
        if self.checked or not AXE.exists():
            return
        self.checked = True
        todo = [(s, url) for s, url in self.pages.items() if s not in _scanned_shapes]
        if not todo:
            return
        source = axe_text()
        context = self.context
        if self.fresh_context is not None:
            context = self.fresh_context(storage_state=self.context.storage_state())
        try:
            for shape, url in todo:
                _scanned_shapes.add(shape)
                scan = context.new_page()
                try:
                    scan.goto(url)
                    found = run_axe(scan, source, FAILING_IMPACTS)
                except Exception as error:  # a page that no longer opens is reported
                    found = [f"could not be checked: {error}"]
                finally:
                    scan.close()
                self.found += [f"{url}: {violation}" for violation in found]
        finally:
            if context is not self.context:
                context.close()

    def problems(self) -> list[str]:
        return [f"broke its Content Security Policy: {text}" for text in self.blocked] + [
            f"axe-core (serious or critical): {finding}" for finding in self.found
        ]


@pytest.fixture(scope="session", autouse=True)
def _one_request_at_a_time_on_sqlite():
    """On SQLite the live server's threads share the test's one in-memory connection, and
    two requests at once (an htmx preview while an autosave posts) used it together: CI
    saw "sqlite3.InterfaceError: bad parameter or other API misuse" and sessions gone
    mid-test. There the server still takes connections on threads (a browser opens
    sockets ahead of its requests, which would stall a server that waits on one), but
    runs the app for one request at a time. PostgreSQL gives each thread a connection
    of its own and is left as it is."""
    import threading

    from django.core.servers.basehttp import ThreadedWSGIServer
    from django.db import connection
    from django.test.testcases import LiveServerThread

    class OneAppCallAtATime(ThreadedWSGIServer):
        lock = threading.Lock()

        def set_app(self, application):
            def serial(environ, start_response):
                with self.lock:
                    return application(environ, start_response)

            super().set_app(serial)

    if connection.vendor == "sqlite":
        LiveServerThread.server_class = OneAppCallAtATime


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        if in_ci():
            pytest.fail(f"Chromium not found at {CHROMIUM}: CI must install it (.ci/run does).")
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        new_context = browser.new_context

        def watched_context(*args, **kwargs):
            context = new_context(*args, **kwargs)
            scripts = kwargs.get("java_script_enabled", True)
            _watches.append(Watch(context, fresh_context=None if scripts else new_context))
            return context

        browser.new_context = watched_context
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _watches.clear()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After a browser test passes (its fixtures, the live server among them, still up):
    its contexts' pages checked with axe-core, and any page that broke its CSP."""
    result = yield
    problems = []
    for watch in _watches:
        watch.check()
        problems += watch.problems()
    _watches.clear()
    assert not problems, "\n".join(problems)
    return result


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
