"""The README's screenshots, taken again: ``make screenshots``.

A throw-away SQLite database with the bundled library and the demo clinic, the
development server on a free port, and Debian's Chromium driven by Playwright: the
builder with a few exercises at desk, tablet and phone widths, and the library.
Nothing outside ``docs/screenshots/`` and a temporary folder is written.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
PASSWORD = "openhep-demo"
WIDTHS = {"desktop": (1280, 900), "tablet": (820, 1180), "phone": (390, 844)}
EXERCISES = [
    ("psoas", "Standing psoas stretch"),
    ("bridge", "Glute bridge"),
    ("clamshell", "Clamshell"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env, *args) -> None:
    command = [sys.executable, "manage.py", *args]
    subprocess.run(command, cwd=ROOT, env=env, check=True)  # noqa: S603 (our own list, no shell)


def serve(env, port: int) -> subprocess.Popen:
    server = subprocess.Popen(  # noqa: S603 (our own argument list, no shell)
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("The development server did not start.")


def build_a_program(page, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email", exact=True).fill("therapist@clinic.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/patients/")
    page.get_by_role("link", name="Raman, Priya").click()
    page.get_by_role("button", name="New prescription").click()
    page.wait_for_load_state("load")
    for query, name in EXERCISES:
        page.get_by_label("Search exercises").fill(query)
        results = page.locator("#library-results")
        expect(results.get_by_role("link", name=name)).to_be_visible()
        page.get_by_role("button", name=f"Add to plan ({name})").click()
        expect(page.locator("#plan").get_by_text(f"Added {name}.")).to_be_visible()
    page.get_by_label("Search exercises").fill("stretch")
    expect(page.locator("#library-results")).not_to_have_class("htmx-request")
    page.wait_for_timeout(500)


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        env = {
            **os.environ,
            "DEBUG": "1",
            "SECRET_KEY": "screenshots-only",
            "DATABASE_URL": f"sqlite:///{scratch}/db.sqlite3",
            "MEDIA_ROOT": f"{scratch}/media",
            "EMAIL_URL": "console:",
            "CACHE_URL": "locmemcache://",
        }
        manage(env, "migrate", "--no-input", "-v0")
        manage(env, "load_library", "-v0")
        manage(env, "demo", "--password", PASSWORD, "-v0")
        port = free_port()
        server = serve(env, port)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                    args=["--headless", "--no-sandbox", "--disable-gpu"],
                )
                context = browser.new_context(
                    viewport={"width": 1280, "height": 900}, locale="en-AU"
                )
                page = context.new_page()
                build_a_program(page, f"http://127.0.0.1:{port}")
                builder = page.url
                for name, (width, height) in WIDTHS.items():
                    page.set_viewport_size({"width": width, "height": height})
                    page.goto(builder)
                    page.wait_for_load_state("load")
                    path = OUT / f"builder-{name}.png"
                    page.screenshot(path=str(path))
                    print(f"wrote {path.relative_to(ROOT)}")
                browser.close()
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
