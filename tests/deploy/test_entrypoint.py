"""deploy/entrypoint.sh, the image's entrypoint and the systemd units' ExecStart:
it refuses to start without the settings production needs (naming them, never
printing a secret), migrates only when asked, and runs the right command for
each role. A stand-in Python records what it was asked to run; one test starts
the real thing (migrate, then gunicorn on a temporary SQLite database) and asks
/healthz, as the container's health check does."""

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.deploy.conftest import DEPLOY, free_port, wait_for_port

ENTRYPOINT = DEPLOY / "entrypoint.sh"
KEY = "k3y-not-for-output-" + "x" * 40
PRODUCTION = {
    "SECRET_KEY": KEY,
    "DATABASE_URL": "postgres://openhep:pw-not-for-output@db:5432/openhep",
    "ALLOWED_HOSTS": "openhep.example.org",
    "EMAIL_URL": "smtp://user:mail-pw-not-for-output@smtp.example.org:587/?tls=1",
    "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
}


@pytest.fixture
def stand_in(tmp_path):
    """A Python that writes each command line it gets to calls.jsonl and exits 0."""
    calls = tmp_path / "calls.jsonl"
    python = tmp_path / "python"
    python.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"with open({str(calls)!r}, 'a') as f: f.write(json.dumps(sys.argv[1:]) + '\\n')\n"
    )
    python.chmod(0o755)
    return python, calls


def start(role_args, env, python=None, cwd=None):
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}
    if python is not None:
        base["OPENHEP_PYTHON"] = str(python)
    return subprocess.run(
        [str(ENTRYPOINT), *role_args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def recorded(calls: Path) -> list[list[str]]:
    if not calls.exists():
        return []
    return [json.loads(line) for line in calls.read_text().splitlines()]


def without(*names):
    return {key: value for key, value in PRODUCTION.items() if key not in names}


@pytest.mark.parametrize(
    ("role", "missing"),
    [
        ("web", "SECRET_KEY"),
        ("web", "DATABASE_URL"),
        ("web", "ALLOWED_HOSTS"),
        ("web", "EMAIL_URL"),
        ("worker", "SECRET_KEY"),
        ("worker", "DATABASE_URL"),
        ("worker", "EMAIL_URL"),
        ("migrate", "DATABASE_URL"),
        ("scheduler", "SECRET_KEY"),
    ],
)
def test_refuses_to_start_without_a_required_setting(stand_in, role, missing):
    python, calls = stand_in
    result = start([role], without(missing), python)
    assert result.returncode == 78
    assert f"{missing} is not set" in result.stderr
    assert recorded(calls) == [], "nothing was started"


def test_settings_it_does_not_need_for_a_role_are_not_asked_for(stand_in):
    python, calls = stand_in
    assert start(["worker"], without("ALLOWED_HOSTS"), python).returncode == 0
    assert start(["migrate"], without("ALLOWED_HOSTS", "EMAIL_URL"), python).returncode == 0
    assert len(recorded(calls)) == 2


def test_secrets_may_come_from_files(stand_in, tmp_path):
    python, calls = stand_in
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for name in ("SECRET_KEY", "DATABASE_URL", "EMAIL_URL"):
        (secrets / name.lower()).write_text(PRODUCTION[name] + "\n")
    env = {
        **without("SECRET_KEY", "DATABASE_URL", "EMAIL_URL"),
        "SECRET_KEY_FILE": str(secrets / "secret_key"),
        "DATABASE_URL_FILE": str(secrets / "database_url"),
        "EMAIL_URL_FILE": str(secrets / "email_url"),
    }
    result = start(["web"], env, python)
    assert result.returncode == 0, result.stderr
    assert recorded(calls)[0][:2] == ["-m", "gunicorn"]


def test_an_unreadable_or_empty_secret_file_is_named(stand_in, tmp_path):
    python, calls = stand_in
    env = {**without("SECRET_KEY"), "SECRET_KEY_FILE": str(tmp_path / "nowhere")}
    result = start(["web"], env, python)
    assert result.returncode == 78
    assert f"SECRET_KEY_FILE is {tmp_path / 'nowhere'}" in result.stderr
    (tmp_path / "empty").write_text("\n")
    result = start(["web"], {**env, "SECRET_KEY_FILE": str(tmp_path / "empty")}, python)
    assert result.returncode == 78
    assert "SECRET_KEY is not set" in result.stderr
    assert recorded(calls) == []


def test_the_example_secret_key_is_refused(stand_in):
    python, _ = stand_in
    env = {**PRODUCTION, "SECRET_KEY": "change-me-to-a-long-random-string"}
    result = start(["web"], env, python)
    assert result.returncode == 78
    assert "example" in result.stderr


def test_no_secret_is_ever_printed(stand_in):
    python, _ = stand_in
    for role in ("web", "worker", "migrate"):
        result = start([role], {**PRODUCTION, "ALLOWED_HOSTS": "", "TASKS_BACKEND": ""}, python)
        output = result.stdout + result.stderr
        for secret in (KEY, "pw-not-for-output", "mail-pw-not-for-output"):
            assert secret not in output


def test_debug_needs_only_a_database(stand_in):
    python, calls = stand_in
    result = start(["web"], {"DEBUG": "1", "DATABASE_URL": "sqlite:////tmp/x.sqlite3"}, python)
    assert result.returncode == 0, result.stderr
    assert len(recorded(calls)) == 1


def test_web_runs_gunicorn_and_migrates_only_when_asked(stand_in):
    python, calls = stand_in
    assert start(["web"], PRODUCTION, python).returncode == 0
    [gunicorn] = recorded(calls)
    assert gunicorn[:3] == ["-m", "gunicorn", "openhep.wsgi"]
    assert gunicorn[gunicorn.index("--config") + 1] == str(DEPLOY / "gunicorn.conf.py")
    assert gunicorn[gunicorn.index("--bind") + 1] == "0.0.0.0:8000"
    assert gunicorn[gunicorn.index("--workers") + 1] == "2"
    assert not any("migrate" in arg for arg in gunicorn)

    calls.unlink()
    env = {**PRODUCTION, "RUN_MIGRATIONS": "1", "GUNICORN_BIND": "127.0.0.1:9000"}
    assert start(["web", "--timeout", "60"], env, python).returncode == 0
    migrate, gunicorn = recorded(calls)
    assert migrate == [str(Path(DEPLOY.parent / "manage.py")), "migrate", "--no-input"]
    assert gunicorn[gunicorn.index("--bind") + 1] == "127.0.0.1:9000"
    assert gunicorn[-2:] == ["--timeout", "60"], "extra arguments reach gunicorn last"


def test_worker_runs_db_worker_with_its_arguments(stand_in):
    python, calls = stand_in
    assert start(["worker", "--queue-name", "default"], PRODUCTION, python).returncode == 0
    [[manage, *args]] = recorded(calls)
    assert manage.endswith("manage.py")
    assert args == ["db_worker", "--queue-name", "default"]


def test_worker_refuses_the_immediate_task_backend(stand_in):
    python, calls = stand_in
    env = {**PRODUCTION, "TASKS_BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}
    result = start(["worker"], env, python)
    assert result.returncode == 78
    assert "TASKS_BACKEND=django_tasks_db.DatabaseBackend" in result.stderr
    assert recorded(calls) == []


def test_migrate_copies_the_static_files_when_asked(stand_in, tmp_path):
    python, calls = stand_in
    static_root, export = tmp_path / "collected", tmp_path / "export"
    (static_root / "css").mkdir(parents=True)
    (static_root / "staticfiles.json").write_text("{}")
    (static_root / "css" / "app.0123456789ab.css").write_text("body{}")
    export.mkdir()
    (export / "css").mkdir()
    (export / "css" / "app.olderversion0.css").write_text("old")
    env = {**PRODUCTION, "STATIC_ROOT": str(static_root), "STATIC_EXPORT_DIR": str(export)}
    result = start(["migrate"], env, python)
    assert result.returncode == 0, result.stderr
    assert [args[1:] for args in recorded(calls)] == [["migrate", "--no-input"]]
    assert (export / "css" / "app.0123456789ab.css").read_text() == "body{}"
    assert (export / "css" / "app.olderversion0.css").exists(), "older files stay"


def test_jobs_manage_and_other_commands(stand_in):
    python, calls = stand_in
    assert start(["job", "backup"], PRODUCTION, python).returncode == 0
    manage = start(["manage", "clinic_create", "--name", "Harbour"], PRODUCTION, python)
    assert manage.returncode == 0
    assert recorded(calls) == [
        [str(DEPLOY / "scheduler.py"), "--run", "backup"],
        [str(DEPLOY.parent / "manage.py"), "clinic_create", "--name", "Harbour"],
    ]
    result = start(["echo", "hello"], {}, python)
    assert (result.returncode, result.stdout) == (0, "hello\n")
    assert start(["job"], PRODUCTION, python).returncode == 64


def test_real_start_migrate_then_web_answers_healthz(tmp_path):
    """The real thing on this machine: migrations on a fresh SQLite database, then
    gunicorn serving /healthz, and the image's health check agreeing."""
    port = free_port()
    env = {
        **PRODUCTION,
        "DEBUG": "0",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "EMAIL_URL": "console:",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "ALLOWED_HOSTS": "openhep.example.org",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "OPENHEP_PYTHON": sys.executable,
        "XDG_RUNTIME_DIR": str(tmp_path),  # gunicorn's control socket
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),  # the config file's hooks
    }
    migrate = start(["migrate"], env)
    assert migrate.returncode == 0, migrate.stderr
    assert (tmp_path / "db.sqlite3").exists()

    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}
    log = (tmp_path / "web.log").open("w")
    web = subprocess.Popen(
        [str(ENTRYPOINT), "web"], env={**base, **env}, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_for_port(port, web, seconds=60)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/healthz",
            headers={"Host": "openhep.example.org", "X-Forwarded-Proto": "https"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
            assert json.load(response)["status"] == "ok"
        check = subprocess.run(
            [sys.executable, str(DEPLOY / "healthcheck.py")],
            env={**base, "ALLOWED_HOSTS": env["ALLOWED_HOSTS"], "GUNICORN_BIND": f"0.0.0.0:{port}"},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert check.returncode == 0, check.stderr
    finally:
        web.terminate()
        web.wait(timeout=30)
        log.close()
    assert web.returncode == 0, (tmp_path / "web.log").read_text()[-2000:]
    assert (tmp_path / "metrics").is_dir(), "gunicorn ran the hooks of deploy/gunicorn.conf.py"
