"""Measurement 6: the pages under load, gunicorn (2 workers) on PostgreSQL, wrk on loopback.

Every run is bounded in time (wrk -d, plus a subprocess timeout) and in count
(bench/wrk_report.lua stops at BENCH_WRK_MAX_REQUESTS). gunicorn is started in
its own process group and always stopped at the end.
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from bench.common import Results
from bench.data import EMAIL, PASSWORD
from bench.pages import PROXY_HEADERS, SEARCH_URL

HOST = "127.0.0.1"  # loopback only
CONNECTIONS = 20
SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "30"))
WARMUP_SECONDS = 3
MAX_REQUESTS = 200_000  # far above what 30 s can reach here: a safety bound
LUA = Path(__file__).with_name("wrk_report.lua")
FLOOR = ("Django trivial view (/bench/ok)", "/bench/ok")  # its value: the mean of two runs


def skip(results: Results, why: str) -> None:
    results.add(
        "under load (gunicorn 2 workers, wrk 20 connections)",
        None,
        "req/s",
        goal="no errors; requests per second reported against a trivial Django view",
        met=None,
        skipped=why,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def request(port, method, path, *, headers=None, body=None, timeout=30):
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        # As the TLS proxy in front of production would (see bench/pages.py).
        conn.request(method, path, body=body, headers={**PROXY_HEADERS, **(headers or {})})
        response = conn.getresponse()
        return response.status, response.msg.get_all("Set-Cookie") or [], response.read()
    finally:
        conn.close()


def cookie(set_cookies: list[str], name: str) -> str:
    for header in set_cookies:
        if header.startswith(f"{name}="):
            return header.split(";", 1)[0].split("=", 1)[1]
    raise RuntimeError(f"no {name} cookie in {set_cookies}")


def log_in(port: int) -> str:
    """A real login through the form, as a browser does; returns the session cookie.
    (Cookies are read from the headers: with DEBUG off they are marked Secure.)"""
    _, set_cookies, body = request(port, "GET", "/accounts/login/")
    csrf = cookie(set_cookies, "csrftoken")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    status, set_cookies, _ = request(
        port,
        "POST",
        "/accounts/login/",
        headers={
            "Cookie": f"csrftoken={csrf}",
            "Content-Type": "application/x-www-form-urlencoded",
            # A secure request's CSRF check wants the page it came from, as a browser sends.
            "Origin": f"https://{HOST}:{port}",
            "Referer": f"https://{HOST}:{port}/accounts/login/",
        },
        body=urlencode({"username": EMAIL, "password": PASSWORD, "csrfmiddlewaretoken": token}),
    )
    if status != 302:
        raise RuntimeError(f"login failed: {status}")
    return f"sessionid={cookie(set_cookies, 'sessionid')}"


def wrk(port: int, path: str, session: str, seconds: int) -> dict:
    # One wrk thread: the two cores are shared with gunicorn and PostgreSQL, and
    # one thread drives 20 connections far faster than Django answers them.
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s"]
    command += ["-H", f"Cookie: {session}"]
    command += [arg for name, value in PROXY_HEADERS.items() for arg in ("-H", f"{name}: {value}")]
    command += ["-s", str(LUA), f"http://{HOST}:{port}{path}"]
    env = {**os.environ, "BENCH_WRK_MAX_REQUESTS": str(MAX_REQUESTS)}
    done = subprocess.run(  # noqa: S603 (our own argument list, no shell)
        command, capture_output=True, text=True, timeout=seconds + 30, env=env, check=True
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("BENCH "))
    report = json.loads(line.removeprefix("BENCH "))
    report["rps"] = report["requests"] / (report["duration_us"] / 1e6)
    report["errors"] = sum(report[k] for k in ("connect", "read", "write", "timeout", "not_200"))
    return report


def drain(port: int) -> None:
    """Wait until the requests a run left queued are served (a slow page leaves a
    backlog when wrk stops), so the next run starts on an idle server."""
    request(port, "GET", "/healthz", timeout=300)


def start_gunicorn(port: int, log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", "openhep.wsgi:application"]
    command += ["--workers", "2", "--bind", f"{HOST}:{port}", "--timeout", "60"]
    command += ["--log-level", "warning", "--error-logfile", str(log)]
    # Its own process group, so stopping it stops its workers too.
    process = subprocess.Popen(command, start_new_session=True)  # noqa: S603 (no shell)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text()[-3000:]}")
        try:
            if request(port, "GET", "/healthz")[0] == 200:
                return process
        except OSError:
            time.sleep(0.2)
    stop(process)
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def measure_load(results: Results, data, workdir: Path, *, database: str) -> None:
    if database != "postgresql":
        skip(results, "needs PostgreSQL: run with DATABASE_URL=postgres://… (see README)")
        return
    if not shutil.which("wrk"):
        skip(results, "wrk is not installed (Debian: apt-get install wrk)")
        return
    port = free_port()
    pages = [
        FLOOR,
        ("dashboard (/)", "/"),
        ("patient list, 1,000 patients", "/patients/"),
        ("library search, 10,000 exercises", SEARCH_URL),
        ("prescription page (8 exercises, issued)", f"/prescriptions/{data.issued.pk}/"),
        ("/bench/select1 (SELECT 1)", "/bench/select1"),
    ]
    process = start_gunicorn(port, workdir / "gunicorn.log")
    try:
        session = log_in(port)
        for _, path in pages:
            status, _, _ = request(port, "GET", path, headers={"Cookie": session})
            if status != 200:
                raise RuntimeError(f"GET {path} with the session: {status}")
        reports = {}
        # The floor runs first and again last: the machine may be shared, and
        # its two results show how much the load from elsewhere moved.
        for name, path in [*pages, ("floor again", FLOOR[1])]:
            wrk(port, path, session, WARMUP_SECONDS)
            drain(port)
            reports[name] = wrk(port, path, session, SECONDS)
            drain(port)
    finally:
        stop(process)
    floor_runs = [reports[FLOOR[0]]["rps"], reports["floor again"]["rps"]]
    floor_rps = sum(floor_runs) / 2
    for name, _ in pages:
        r = reports[name]
        if name == FLOOR[0]:
            r = {**r, "rps": floor_rps}
        results.add(
            f"under load: {name}",
            r["rps"],
            "req/s",
            goal="no errors (socket errors, timeouts, non-200 responses)",
            met=r["errors"] == 0,
            floor_name=FLOOR[0],
            floor_value=floor_rps,
            floor_runs_rps=[round(v, 1) for v in floor_runs],
            p50_ms=r["p50_us"] / 1000,
            p99_ms=r["p99_us"] / 1000,
            requests=r["requests"],
            errors=r["errors"],
            seconds=SECONDS,
            connections=CONNECTIONS,
            count_bound_hit=bool(r["count_bound_hit"]),
        )
