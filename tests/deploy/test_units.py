"""deploy/systemd: the units for a plain server. Each periodic job has a timer
at the same time as deploy/scheduler.py runs it under compose, every service
starts through deploy/entrypoint.sh with its secrets as systemd credentials, and
`systemd-analyze verify` accepts the files (where systemd is installed)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from deploy.scheduler import JOBS
from tests.deploy.conftest import DEPLOY

UNITS = DEPLOY / "systemd"
APP = "/srv/openhep/app"


def read_unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Sections of a unit file, each a list of (key, value): keys may repeat."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), [])
            continue
        key, _, value = line.partition("=")
        assert current is not None and _, f"{path.name}: {line!r}"
        current.append((key, value))
    return sections


def values(section: list[tuple[str, str]], key: str) -> list[str]:
    return [value for name, value in section if name == key]


def on_calendar(job) -> str:
    if job.every_minutes:
        return f"*:0/{job.every_minutes}"
    return f"*-*-* {job.daily_at}:00"


def test_each_job_has_a_timer_at_the_schedulers_time():
    timers = {path.stem.removeprefix("openhep-"): path for path in UNITS.glob("*.timer")}
    assert set(timers) == {job.name for job in JOBS}
    for job in JOBS:
        timer = read_unit(timers[job.name])["Timer"]
        assert values(timer, "OnCalendar") == [on_calendar(job)], job.name
        assert values(timer, "Unit") == [f"openhep-job@{job.name}.service"]
    wanted = " ".join(values(read_unit(UNITS / "openhep.target")["Unit"], "Wants")).split()
    assert {f"openhep-{job.name}.timer" for job in JOBS} <= set(wanted)
    assert {"openhep-web.service", "openhep-worker@1.service"} <= set(wanted)


@pytest.mark.parametrize(
    ("unit", "command"),
    [
        ("openhep-web.service", "web"),
        ("openhep-worker@.service", "worker"),
        ("openhep-migrate.service", "migrate"),
        ("openhep-job@.service", "job %i"),
    ],
)
def test_services_start_through_the_entrypoint_with_credentials(unit, command):
    service = read_unit(UNITS / unit)["Service"]
    assert values(service, "ExecStart") == [f"{APP}/deploy/entrypoint.sh {command}"]
    assert values(service, "User") == ["openhep"]
    assert values(service, "EnvironmentFile") == ["/etc/openhep/openhep.env"]
    environment = " ".join(values(service, "Environment")).split()
    credentials = [value.split(":", 1) for value in values(service, "LoadCredential")]
    assert credentials, "secrets come as credentials, never in the environment file"
    for name, source in credentials:
        assert source == f"/etc/openhep/credentials/{name}"
        assert f"{name.upper()}_FILE=%d/{name}" in environment
    assert ["secret_key", "/etc/openhep/credentials/secret_key"] in credentials
    assert values(service, "ProtectSystem") == ["strict"]


def test_web_and_worker_do_not_restart_on_a_configuration_error():
    for unit in ("openhep-web.service", "openhep-worker@.service"):
        service = read_unit(UNITS / unit)["Service"]
        assert values(service, "RestartPreventExitStatus") == ["78"]  # entrypoint.sh's


def test_web_waits_for_the_migrations():
    unit = read_unit(UNITS / "openhep-web.service")["Unit"]
    assert "openhep-migrate.service" in values(unit, "Requires")
    assert "openhep-migrate.service" in " ".join(values(unit, "After"))


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None and not os.environ.get("CI"),
    reason="systemd is not installed",
)
def test_systemd_accepts_the_units(tmp_path):
    # Pointed at this checkout so the commands exist; instances stand in for templates.
    for path in UNITS.iterdir():
        (tmp_path / path.name).write_text(path.read_text().replace(APP, str(DEPLOY.parent)))
    shutil.copy(tmp_path / "openhep-worker@.service", tmp_path / "openhep-worker@1.service")
    shutil.copy(tmp_path / "openhep-job@.service", tmp_path / "openhep-job@backup.service")
    names = [
        path.name
        for path in sorted(tmp_path.iterdir())
        if "@." not in path.name  # verify takes instances, not bare templates
    ]
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *names],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"SYSTEMD_LOG_LEVEL": "notice", "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"},
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_manage_sh_runs_a_command_as_the_services_do(tmp_path):
    """deploy/manage.sh hands the command to systemd-run with the units' user,
    settings and credentials (a stand-in systemd-run records what it was given)."""
    record = tmp_path / "args"
    stand_in = tmp_path / "systemd-run"
    stand_in.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\n')
    stand_in.chmod(0o755)
    result = subprocess.run(
        [str(DEPLOY / "manage.sh"), "clinic_create", "--name", "Harbour Physio"],
        env={"PATH": "/usr/bin:/bin", "SYSTEMD_RUN": str(stand_in)},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    args = record.read_text().splitlines()
    assert args[0] == "--pipe"
    unit = next(arg.split("=", 1)[1] for arg in args if arg.startswith("--unit="))
    assert "--property=User=openhep" in args
    assert "--property=EnvironmentFile=/etc/openhep/openhep.env" in args
    for name in ("secret_key", "database_url", "email_url"):
        assert f"--property=LoadCredential={name}:/etc/openhep/credentials/{name}" in args
        assert f"--setenv={name.upper()}_FILE=/run/credentials/{unit}.service/{name}" in args
    command = args[args.index("--") + 1 :]
    assert command == [
        str(DEPLOY / "entrypoint.sh"),
        "manage",
        "clinic_create",
        "--name",
        "Harbour Physio",
    ]
