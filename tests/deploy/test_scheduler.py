"""deploy/scheduler.py: when each periodic job is next due (clock-aligned
intervals, daily times in the installation's time zone, across DST changes), and
its command line."""

import subprocess
import sys
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from deploy.scheduler import JOBS, Job
from tests.deploy.conftest import DEPLOY

MELBOURNE = ZoneInfo("Australia/Melbourne")
EVERY_5 = Job("x", ("manage.py", "x"), "", every_minutes=5)
NIGHTLY = Job("y", ("deploy/backup.sh",), "", daily_at="02:15")


def test_intervals_are_on_the_clock():
    now = datetime(2026, 3, 2, 10, 7, 31, tzinfo=MELBOURNE)
    assert EVERY_5.next_after(now) == datetime(2026, 3, 2, 10, 10, tzinfo=MELBOURNE)
    exactly = datetime(2026, 3, 2, 10, 10, tzinfo=MELBOURNE)
    assert EVERY_5.next_after(exactly) == datetime(2026, 3, 2, 10, 15, tzinfo=MELBOURNE)


def test_daily_jobs_run_at_local_time_today_or_tomorrow():
    before = datetime(2026, 3, 2, 1, 0, tzinfo=MELBOURNE)
    after = datetime(2026, 3, 2, 2, 15, tzinfo=MELBOURNE)
    assert NIGHTLY.next_after(before) == datetime(2026, 3, 2, 2, 15, tzinfo=MELBOURNE)
    assert NIGHTLY.next_after(after) == datetime(2026, 3, 3, 2, 15, tzinfo=MELBOURNE)


def test_daylight_saving_changes_neither_skip_nor_repeat_the_nightly_job():
    # 4 October 2026: clocks go from 02:00 to 03:00, so 02:15 does not exist.
    spring = NIGHTLY.next_after(datetime(2026, 10, 4, 1, 0, tzinfo=MELBOURNE))
    assert spring.astimezone(MELBOURNE).date().day == 4
    assert spring == datetime(2026, 10, 3, 16, 15, tzinfo=UTC)  # 03:15 local
    # 5 April 2026: clocks go from 03:00 back to 02:00, so 02:15 happens twice.
    first = NIGHTLY.next_after(datetime(2026, 4, 5, 1, 0, tzinfo=MELBOURNE))
    after_first = first.astimezone(MELBOURNE)
    assert NIGHTLY.next_after(after_first).astimezone(MELBOURNE).day == 6


def test_jobs_run_manage_py_with_this_python_or_the_backup_script():
    by_name = {job.name: job for job in JOBS}
    assert by_name["requeue-deliveries"].argv() == [
        sys.executable,
        str(DEPLOY.parent / "manage.py"),
        "requeue_deliveries",
    ]
    assert by_name["backup"].argv() == [str(DEPLOY / "backup.sh")]
    for job in JOBS:
        if job.command[0] != "manage.py":
            assert (DEPLOY.parent / job.command[0]).stat().st_mode & 0o111, job.name


def test_list_and_unknown_job():
    listing = subprocess.run(
        [sys.executable, str(DEPLOY / "scheduler.py"), "--list"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert all(job.name in listing.stdout for job in JOBS)
    unknown = subprocess.run(
        [sys.executable, str(DEPLOY / "scheduler.py"), "--run", "nope"],
        capture_output=True,
        text=True,
    )
    assert unknown.returncode == 64
    assert "requeue-deliveries" in unknown.stderr


def test_reminders_go_every_five_minutes_and_inactive_patients_are_listed_each_morning():
    by_name = {job.name: job for job in JOBS}
    assert by_name["reminders-send"].command == ("manage.py", "reminders_send")
    assert by_name["reminders-send"].every_minutes == 5
    assert by_name["followups-inactive"].command == ("manage.py", "followups_inactive")
    assert by_name["followups-inactive"].daily_at == "07:10"


def test_each_manage_py_job_names_a_command_that_exists():
    from django.core.management import get_commands

    commands = get_commands()
    for job in JOBS:
        if job.command[0] == "manage.py":
            assert job.command[1] in commands, job.name
