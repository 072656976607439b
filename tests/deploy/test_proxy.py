"""deploy/Caddyfile, run by a real Caddy in front of a stand-in app on loopback:
static files and the two public media folders are served with their cache
headers, nothing else under MEDIA_ROOT is reachable (however the path is
spelt), private files leave only through the app's X-Accel-Redirect, and bodies
over MAX_REQUEST_MB are stopped. Skipped where Caddy is not installed
(Debian: apt-get install caddy)."""

import gzip
import http.client
import json
import os
import re
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.deploy.conftest import DEPLOY, free_port, wait_for_port

CADDY = shutil.which("caddy")
# CI installs Caddy (.ci/run): there a missing one fails the tests instead of skipping them.
pytestmark = pytest.mark.skipif(
    CADDY is None and not os.environ.get("CI"), reason="caddy is not installed"
)

HANDOUT = b"%PDF-1.7 the patient's handout"
EXPORT = b"a patient's export"
LIMIT_MB = 1
# A clinic video's upload may carry this much more (CLINIC_VIDEO_MAX_MB).
VIDEO_MB = 2


class StandInApp(BaseHTTPRequestHandler):
    """What the proxy needs of the app: private downloads answered with
    X-Accel-Redirect (as with MEDIA_ACCEL_REDIRECT=/_protected/), and an echo of
    what reached it."""

    def do_GET(self):
        if self.path.startswith("/prescriptions/"):
            # As clinic.storage.private_file_response: the storage name (random,
            # URL-safe characters, which its quote() leaves as they are).
            name = "handout.pdf" if self.path.endswith("/handout.pdf") else "Ab-9_x~Y.pdf"
            self.send_response(200)
            self.send_header("X-Accel-Redirect", f"/_protected/handouts/1/2/{name}")
            self.send_header("Content-Type", "application/pdf")
            self.send_header("Content-Disposition", 'attachment; filename="program.pdf"')
            self.send_header("Cache-Control", "no-store, private")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.answer({"path": self.path, "headers": dict(self.headers)})

    def do_POST(self):
        # As openhep.middleware: a body declared over the limit is refused unread.
        length = int(self.headers.get("Content-Length") or 0)
        limit = LIMIT_MB + (VIDEO_MB if self.path.endswith("/media/video/") else 0)
        if length > limit * 1024 * 1024:
            self.send_response(413)
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
            return
        self.answer({"received": len(self.rfile.read(length))})

    def answer(self, data):
        body = json.dumps(data).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    base = tmp_path_factory.mktemp("proxy")
    static, media = base / "static", base / "media"
    files = {
        static / "css" / "app.3f2a9c1b0d4e.css": b"body{}",
        static / "css" / "app.css": b"body{}",
        static / "js" / "big.0123456789ab.js": b"let a = 1;" * 100,
        media / "exercises" / "psoas-stretch" / "main.png": b"png of a stretch",
        media / "clinics" / "logos" / "harbour.png": b"png of a logo",
        media / "handouts" / "1" / "2" / "handout.pdf": HANDOUT,
        media / "handouts" / "1" / "2" / "Ab-9_x~Y.pdf": HANDOUT + b" (copy)",
        media / "exports" / "patient-7.json": EXPORT,
    }
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    (static / "js" / "big.0123456789ab.js.gz").write_bytes(gzip.compress(b"let a = 1;" * 100))

    app = ThreadingHTTPServer(("127.0.0.1", 0), StandInApp)
    threading.Thread(target=app.serve_forever, daemon=True).start()
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(base),
        "XDG_DATA_HOME": str(base / "data"),
        "XDG_CONFIG_HOME": str(base / "config"),
        "CADDY_ADMIN": "off",
        "OPENHEP_SITE_ADDRESS": f"http://127.0.0.1:{port}",
        "OPENHEP_UPSTREAM": f"127.0.0.1:{app.server_address[1]}",
        "OPENHEP_STATIC_DIR": str(static),
        "OPENHEP_MEDIA_DIR": str(media),
        "MAX_REQUEST_MB": str(LIMIT_MB),
        "CLINIC_VIDEO_MAX_MB": str(VIDEO_MB),
    }
    log = (base / "caddy.log").open("w")
    process = subprocess.Popen(
        [CADDY, "run", "--adapter", "caddyfile", "--config", str(DEPLOY / "Caddyfile")],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        app.shutdown()
        log.close()


def get(port, path, method="GET", body=None, headers=None):
    """One request with the path sent exactly as written (no client-side clean-up)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_caddy_accepts_the_file(tmp_path):
    env = {**os.environ, "OPENHEP_SITE_ADDRESS": "openhep.example.org", "HOME": str(tmp_path)}
    result = subprocess.run(
        [CADDY, "adapt", "--adapter", "caddyfile", "--config", str(DEPLOY / "Caddyfile")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_public_media_is_served_with_a_week_of_cache(proxy):
    for path, content in [
        ("/media/exercises/psoas-stretch/main.png", b"png of a stretch"),
        ("/media/clinics/logos/harbour.png", b"png of a logo"),
    ]:
        status, headers, body = get(proxy, path)
        assert (status, body) == (200, content), path
        assert headers["Cache-Control"] == "public, max-age=604800"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'none'" in headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "path",
    [
        "/media/handouts/1/2/handout.pdf",
        "/media/exports/patient-7.json",
        "/media/",
        "/media/exercises/../handouts/1/2/handout.pdf",
        "/media/exercises/%2e%2e/handouts/1/2/handout.pdf",
        "/media/exercises/..%2fhandouts/1/2/handout.pdf",
        "/media/exercises/%2E%2E%2Fhandouts%2F1%2F2%2Fhandout.pdf",
        "/media/clinics/logos/../../handouts/1/2/handout.pdf",
        "/media/exercises//../handouts/1/2/handout.pdf",
        "/media/exercises\\..\\handouts\\1\\2\\handout.pdf",
        "/static/../media/handouts/1/2/handout.pdf",
        "/static/..%2fmedia/handouts/1/2/handout.pdf",
        "/_protected/handouts/1/2/handout.pdf",
        "/_protected/exports/patient-7.json",
        "//_protected/handouts/1/2/handout.pdf",
    ],
)
def test_private_files_are_never_served_by_path(proxy, path):
    status, _, body = get(proxy, path)
    assert HANDOUT not in body and EXPORT not in body
    assert status in (400, 404) or (status == 200 and body.startswith(b"{")), (status, body)


def test_a_private_download_is_sent_after_the_app_allows_it(proxy):
    status, headers, body = get(proxy, "/prescriptions/2/handout.pdf")
    assert (status, body) == (200, HANDOUT)
    assert headers["Content-Disposition"] == 'attachment; filename="program.pdf"'
    assert headers["Cache-Control"] == "no-store, private"
    assert headers["Content-Type"] == "application/pdf"
    assert "X-Accel-Redirect" not in headers
    status, _, body = get(proxy, "/prescriptions/2/copy")
    assert (status, body) == (200, HANDOUT + b" (copy)")


def test_static_files_hashed_names_are_immutable(proxy):
    status, headers, _ = get(proxy, "/static/css/app.3f2a9c1b0d4e.css")
    assert status == 200
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    status, headers, _ = get(proxy, "/static/css/app.css")
    assert status == 200
    assert headers["Cache-Control"] == "public, max-age=3600"
    assert get(proxy, "/static/css/missing.css")[0] == 404


def test_static_files_are_sent_precompressed(proxy):
    status, headers, body = get(
        proxy, "/static/js/big.0123456789ab.js", headers={"Accept-Encoding": "gzip"}
    )
    assert status == 200
    assert headers.get("Content-Encoding") == "gzip"
    assert gzip.decompress(body) == b"let a = 1;" * 100


def test_the_app_gets_the_client_and_scheme(proxy):
    status, _, body = get(proxy, "/patients/", headers={"X-Forwarded-For": "203.0.113.9"})
    assert status == 200
    seen = json.loads(body)["headers"]
    assert seen["X-Forwarded-Proto"] == "http"  # "https" behind the real TLS site
    assert re.fullmatch(r"[0-9a-f-]{36}", seen["X-Request-Id"]), "one id per request"
    # A client cannot plant an address before its own: PROXY_COUNT=1 reads the last.
    assert seen["X-Forwarded-For"].split(",")[-1].strip() == "127.0.0.1"


def test_bodies_over_the_limit_are_stopped(proxy):
    status, _, body = get(proxy, "/exercises/new/", method="POST", body=b"x" * 1000)
    assert (status, json.loads(body)) == (200, {"received": 1000})
    status, _, body = get(
        proxy, "/exercises/new/", method="POST", body=b"x" * (LIMIT_MB * 1024 * 1024 + 1)
    )
    assert status == 413
    assert b"the limit is 1 MB" in body


def test_a_clinic_video_upload_has_its_own_larger_limit(proxy):
    video = "/exercises/wall-angel/media/video/"
    size = (LIMIT_MB + 1) * 1024 * 1024
    status, _, body = get(proxy, video, method="POST", body=b"x" * size)
    assert (status, json.loads(body)) == (200, {"received": size})
    too_large = b"x" * ((LIMIT_MB + VIDEO_MB) * 1024 * 1024 + 1)
    status, _, body = get(proxy, video, method="POST", body=too_large)
    assert status == 413 and b"the limit is 2 MB" in body
    # Only that route: the photo form next to it keeps the usual limit.
    status, _, _ = get(proxy, video.replace("video", "photo"), method="POST", body=b"x" * size)
    assert status == 413
