"""OpenHEP's periodic jobs, and the small scheduler that runs them.

    python deploy/scheduler.py              run for ever, each job at its times
    python deploy/scheduler.py --list       the jobs and when they run
    python deploy/scheduler.py --run NAME   one job now; exits with its status

Compose runs this as the ``scheduler`` service (``entrypoint.sh scheduler``). On a
server with systemd, one timer per job runs ``entrypoint.sh job NAME`` instead
(deploy/systemd/); tests/deploy checks that both keep the same times. Times are
in the installation's TIME_ZONE, like the app's. A run missed while the scheduler
was stopped is not made up (the next one comes at its time); a job still running
when its next time comes is not started twice. Standard library only: each job
runs in its own process, so the scheduler itself stays small and never touches
the database.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

BASE_DIR = Path(__file__).resolve().parent.parent
# How often the loop wakes to start due jobs and reap finished ones.
TICK_SECONDS = 5
# On SIGTERM, running jobs get this long to finish after being asked to stop.
STOP_GRACE_SECONDS = 30


@dataclass(frozen=True)
class Job:
    name: str
    # manage.py commands run with this Python; anything else runs as given.
    command: tuple[str, ...]
    what: str
    every_minutes: int | None = None
    daily_at: str | None = None  # "HH:MM", local time

    def argv(self) -> list[str]:
        if self.command[0] == "manage.py":
            return [sys.executable, str(BASE_DIR / "manage.py"), *self.command[1:]]
        return [str(BASE_DIR / self.command[0]), *self.command[1:]]

    def when(self) -> str:
        if self.every_minutes == 1:
            return "every minute"
        if self.every_minutes:
            return f"every {self.every_minutes} minutes"
        return f"daily at {self.daily_at}"

    def next_after(self, now: datetime) -> datetime:
        """The first time strictly after ``now`` this job is due, in UTC. ``now`` is
        aware, in the installation's time zone: daily times are local ones (a time
        that a DST change skips runs an hour later that day; one it repeats, once)."""
        if self.every_minutes:
            # On the clock: :00, :05, :10 ... like a timer's *:0/5; in UTC, so the
            # hour repeated when clocks go back does not pause it.
            start = now.astimezone(UTC).replace(second=0, microsecond=0)
            return start + timedelta(minutes=self.every_minutes - start.minute % self.every_minutes)
        assert self.daily_at is not None
        hour, minute = (int(part) for part in self.daily_at.split(":"))
        day = now.date()
        while True:
            at = datetime(day.year, day.month, day.day, hour, minute, tzinfo=now.tzinfo)
            if at.astimezone(UTC) > now.astimezone(UTC):
                return at.astimezone(UTC)
            day += timedelta(days=1)


JOBS = (
    Job(
        "requeue-deliveries",
        ("manage.py", "requeue_deliveries"),
        "queue again handout emails and handouts to draw left behind by a lost task or "
        "a worker that died",
        every_minutes=1,
    ),
    Job(
        "reminders-send",
        ("manage.py", "reminders_send"),
        "queue the reminder emails patients asked for on their page that are due now",
        every_minutes=5,
    ),
    Job(
        "backup",
        ("deploy/backup.sh",),
        "back up the database and media: a full back-up on BACKUP_FULL_WEEKDAY, incremental "
        "ones otherwise (encrypted when BACKUP_AGE_RECIPIENTS_FILE is set)",
        daily_at="02:15",
    ),
    Job(
        "clearsessions",
        ("manage.py", "clearsessions"),
        "delete expired sign-in sessions",
        daily_at="03:05",
    ),
    Job(
        "prune-tasks",
        ("manage.py", "prune_db_task_results", "--queue-name", "*", "--min-age-days", "14"),
        "delete finished task rows older than 14 days (password reset rows hold the typed address)",
        daily_at="03:15",
    ),
    Job(
        "axes-logs",
        ("manage.py", "axes_reset_logs", "--age", "30"),
        "delete sign-in records (addresses, browsers) older than 30 days",
        daily_at="03:25",
    ),
    Job(
        "audit-prune",
        ("manage.py", "audit_prune"),
        "delete audit entries past AUDIT_KEEP_READS_DAYS / AUDIT_KEEP_CHANGES_DAYS",
        daily_at="03:35",
    ),
    Job(
        "followups-inactive",
        ("manage.py", "followups_inactive"),
        "list on the dashboard the patients who logged nothing on their page for 7 days",
        daily_at="07:10",
    ),
)


def log(message: str) -> None:
    stamp = datetime.now(zone()).isoformat(timespec="seconds")
    print(f"{stamp} scheduler: {message}", flush=True)


def zone() -> ZoneInfo:
    return ZoneInfo(os.environ.get("TIME_ZONE") or "Australia/Melbourne")


def job_env() -> dict[str, str]:
    # deploy/backup.sh then uses the same Python as the manage.py jobs.
    return {**os.environ, "OPENHEP_PYTHON": sys.executable}


def run_once(name: str) -> int:
    job = next((job for job in JOBS if job.name == name), None)
    if job is None:
        names = ", ".join(job.name for job in JOBS)
        print(f"No job named {name!r}. Jobs: {names}.", file=sys.stderr)
        return 64
    return subprocess.call(job.argv(), cwd=BASE_DIR, env=job_env())  # noqa: S603


def serve() -> int:
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    tz = zone()
    now = datetime.now(tz)
    due = {job.name: job.next_after(now) for job in JOBS}
    running: dict[str, tuple[subprocess.Popen, float]] = {}
    for job in JOBS:
        log(f"{job.name}: {job.when()}, next at {due[job.name].astimezone(tz):%Y-%m-%d %H:%M %Z}")

    while not stopping:
        for name, (process, started) in list(running.items()):
            if process.poll() is not None:
                del running[name]
                outcome = "finished" if process.returncode == 0 else "FAILED"
                seconds = time.monotonic() - started
                log(f"{name} {outcome} (status {process.returncode}, {seconds:.0f} s)")
        now = datetime.now(tz)
        for job in JOBS:
            if now < due[job.name]:
                continue
            due[job.name] = job.next_after(now)
            if job.name in running:
                log(f"{job.name} is still running: this run is skipped")
                continue
            process = subprocess.Popen(job.argv(), cwd=BASE_DIR, env=job_env())  # noqa: S603
            running[job.name] = (process, time.monotonic())
            log(f"{job.name} started (pid {process.pid})")
        time.sleep(TICK_SECONDS)

    log("stopping")
    for process, _ in running.values():
        process.terminate()
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for name, (process, _) in running.items():
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log(f"{name} did not stop: killed")
            process.kill()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--list", action="store_true", help="print the jobs and their times")
    group.add_argument("--run", metavar="NAME", help="run one job now and exit with its status")
    options = parser.parse_args(argv)
    if options.list:
        for job in JOBS:
            print(f"{job.name:20} {job.when():22} {job.what}")
        return 0
    if options.run:
        return run_once(options.run)
    return serve()


if __name__ == "__main__":
    sys.exit(main())
