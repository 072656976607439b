"""deploy/backup.sh, the nightly job: a full back-up on BACKUP_FULL_WEEKDAY and
incremental ones --since the newest archive of the chain on the other nights,
each checked with backup --verify; archives readable by their owner only,
encrypted with age when recipients are given (the plain copy removed, a copy of
its manifest kept for the next --since); whole chains deleted past
BACKUP_KEEP_DAYS. A stand-in Python plays `manage.py backup` for the
scheduling; the real one makes a chain at the end. OPENHEP_BACKUP_NOW sets the
script's clock. tests/openhep/test_backup*.py cover the command."""

import gzip
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from tests.deploy.conftest import DEPLOY, ROOT

SUNDAY = "2026-11-29"
WEEK = ["2026-11-29", "2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04"]
WEEK += ["2026-12-05", "2026-12-06"]  # Sunday to Sunday

needs_age = pytest.mark.skipif(
    shutil.which("age") is None and not os.environ.get("CI"), reason="age is not installed"
)

# Plays `manage.py backup`: writes a tar with a manifest where --output asks, and
# logs each call (one JSON list a line); --verify fails when FAIL_VERIFY is set,
# --since when FAIL_SINCE is.
STAND_IN = """\
import io, json, os, sys, tarfile
args = sys.argv[2:]
with open(os.environ["CALLS"], "a") as log:
    log.write(json.dumps(args) + "\\n")
if "--verify" in args:
    sys.exit(1 if os.environ.get("FAIL_VERIFY") else 0)
if "--since" in args and os.environ.get("FAIL_SINCE"):
    sys.exit("The archive's manifest is damaged")
with tarfile.open(args[args.index("--output") + 1], "w") as tar:
    data = b"manifest of " + os.path.basename(args[args.index("--output") + 1]).encode()
    info = tarfile.TarInfo("manifest.jsonl.gz")
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))
"""


@pytest.fixture
def backup_env(tmp_path):
    python = tmp_path / "python"
    python.write_text(f"#!{sys.executable}\n{STAND_IN}")
    python.chmod(0o755)
    folder = tmp_path / "back ups"  # a space, as BACKUP_DIR may hold
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "OPENHEP_PYTHON": str(python),
        "BACKUP_DIR": str(folder),
        "CALLS": str(tmp_path / "calls.jsonl"),
    }
    return env, folder


def run(env, day=SUNDAY, check=True):
    result = subprocess.run(
        [str(DEPLOY / "backup.sh")],
        env={**env, "OPENHEP_BACKUP_NOW": f"{day} 02:15:00"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def calls(env) -> list[list[str]]:
    path = Path(env["CALLS"])
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def archive(day: str, kind: str, suffix: str = "") -> str:
    return f"openhep-backup-{day.replace('-', '')}-021500-{kind}.tar{suffix}"


def test_a_week_is_one_chain_full_on_sunday_then_incremental_since_the_night_before(backup_env):
    env, folder = backup_env
    for day in WEEK:
        run(env, day)

    expected = [archive(WEEK[0], "full")] + [archive(d, "incr") for d in WEEK[1:7]]
    assert names(folder) == sorted(expected + [archive(WEEK[7], "full")])
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    made = [c for c in calls(env) if "--output" in c]
    checked = [c for c in calls(env) if "--verify" in c]
    assert [c.count("--since") for c in made] == [0, 1, 1, 1, 1, 1, 1, 0]
    for night in range(1, 7):
        assert made[night][made[night].index("--since") + 1] == str(folder / expected[night - 1])
        # Each incremental is checked with every earlier archive of its chain.
        assert checked[night] == [
            "backup",
            "--verify",
            str(folder / expected[night]),
            "--chain",
            *(str(folder / n) for n in expected[:night]),
        ]
    assert checked[0] == ["backup", "--verify", str(folder / expected[0])]


def test_the_full_day_is_a_setting_and_a_first_night_is_full_whatever_the_day(backup_env):
    env, folder = backup_env
    env = {**env, "BACKUP_FULL_WEEKDAY": "3"}
    run(env, "2026-11-30")  # a Monday, but there is no chain yet
    run(env, "2026-12-01")
    run(env, "2026-12-02")  # Wednesday
    assert names(folder) == [
        archive("2026-11-30", "full"),
        archive("2026-12-01", "incr"),
        archive("2026-12-02", "full"),
    ]
    assert run({**env, "BACKUP_FULL_WEEKDAY": "8"}, check=False).returncode == 2


def test_a_chain_whose_full_back_up_is_a_week_old_starts_again(backup_env):
    env, folder = backup_env
    run(env, "2026-11-22")  # Sunday
    run(env, "2026-11-30")  # Monday: last Sunday's night was missed
    assert names(folder) == [archive("2026-11-22", "full"), archive("2026-11-30", "full")]


def test_pruning_deletes_only_whole_chains_past_the_keep_days(backup_env):
    env, folder = backup_env
    folder.mkdir()
    old_chain = [archive("2026-11-01", "full", ".age")]
    old_chain += [archive(f"2026-11-0{d}", "incr", ".age") for d in range(2, 8)]
    kept_chain = [archive("2026-11-08", "full", ".age")]
    kept_chain += [archive(f"2026-11-{d:02}", "incr", ".age") for d in range(9, 15)]
    sidecars = [
        n.removesuffix(".age") + ".manifest.jsonl.gz" for n in (old_chain[-1], kept_chain[-1])
    ]
    for name in old_chain + kept_chain + sidecars:
        (folder / name).write_bytes(b"x")
    month_ago = time.time() - 30 * 86400
    legacy = folder / "openhep-backup-20200101-021500.tar.age"  # from before chains
    unrelated = folder / "notes.txt"
    for path in (legacy, unrelated):
        path.write_bytes(b"old")
        os.utime(path, (month_ago, month_ago))

    # Monday 23 November, 14 days kept: the chain of 1-7 November goes whole; the
    # one of 8-14 stays whole though its full back-up is past 14 days.
    result = run(env, "2026-11-23")
    assert names(folder) == sorted(
        kept_chain + [sidecars[1], archive("2026-11-23", "full"), "notes.txt"]
    )
    assert f"Deleted: {folder / old_chain[0]}" in result.stdout


def test_when_the_incremental_back_up_fails_a_full_one_is_made(backup_env):
    env, folder = backup_env
    run(env, SUNDAY)
    result = run({**env, "FAIL_SINCE": "1"}, "2026-11-30")
    assert "making a full one" in result.stderr
    assert names(folder) == [archive(SUNDAY, "full"), archive("2026-11-30", "full")]


def test_a_failed_check_fails_the_night_and_leaves_the_archive_out_of_the_chain(backup_env):
    env, folder = backup_env
    result = run({**env, "FAIL_VERIFY": "1"}, check=False)
    assert result.returncode == 1
    assert names(folder) == [archive(SUNDAY, "full") + ".failed-verify"]
    run(env, "2026-11-30")  # the next night has no chain to add to
    assert archive("2026-11-30", "full") in names(folder)


def age_key(tmp_path) -> tuple[Path, Path]:
    key = tmp_path / "key.txt"
    subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
    public = next(line.split(": ")[1] for line in key.read_text().splitlines() if "public" in line)
    recipients = tmp_path / "recipients.txt"
    recipients.write_text(public + "\n")
    return key, recipients


def decrypt(key: Path, path: Path) -> bytes:
    return subprocess.run(
        ["age", "-d", "-i", str(key), str(path)], check=True, capture_output=True
    ).stdout


@needs_age
def test_encrypted_archives_chain_on_the_copy_of_their_manifest(backup_env, tmp_path):
    env, folder = backup_env
    key, recipients = age_key(tmp_path)
    env = {**env, "BACKUP_AGE_RECIPIENTS_FILE": str(recipients)}
    run(env, SUNDAY)
    run(env, "2026-11-30")

    full, incr = archive(SUNDAY, "full"), archive("2026-11-30", "incr")
    assert names(folder) == sorted(
        [full + ".age", full + ".manifest.jsonl.gz", incr + ".age", incr + ".manifest.jsonl.gz"]
    )
    with tarfile.open(fileobj=io.BytesIO(decrypt(key, folder / (full + ".age")))) as tar:
        manifest = tar.extractfile("manifest.jsonl.gz").read()
    assert (folder / (full + ".manifest.jsonl.gz")).read_bytes() == manifest
    made = [c for c in calls(env) if "--output" in c]
    assert made[1][made[1].index("--since") + 1] == str(folder / (full + ".manifest.jsonl.gz"))
    # The encrypted earlier archive cannot be read here: the new one is checked alone.
    assert [c for c in calls(env) if "--verify" in c][1] == [
        "backup",
        "--verify",
        str(folder / incr),
    ]


# The real manage.py, on a SQLite database migrated once for the module.


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("migrated")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SECRET_KEY": "x",
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
    }
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], env=env, check=True)
    return folder / "db.sqlite3"


@pytest.fixture
def real_env(migrated, tmp_path):
    shutil.copy(migrated, tmp_path / "db.sqlite3")
    media = tmp_path / "media"
    (media / "handouts").mkdir(parents=True)
    (media / "handouts" / "sunday.pdf").write_bytes(b"%PDF sunday")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "OPENHEP_PYTHON": sys.executable,
        "SECRET_KEY": "x",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(media),
        "BACKUP_DIR": str(tmp_path / "backups"),
    }
    return env, tmp_path / "backups", media


def media_of(data: bytes) -> set[str]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {name for name in tar.getnames() if name.startswith("media/")}


def previous_of(data: bytes) -> str:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        lines = gzip.decompress(tar.extractfile("manifest.jsonl.gz").read()).splitlines()
    return json.loads(lines[0])["previous"]["file"]


def test_with_the_real_command_each_night_holds_only_new_files_and_the_chain_checks(real_env):
    env, folder, media = real_env
    run(env, SUNDAY)
    (media / "handouts" / "monday.pdf").write_bytes(b"%PDF monday")
    run(env, "2026-11-30")
    (media / "handouts" / "tuesday.pdf").write_bytes(b"%PDF tuesday")
    tuesday = run(env, "2026-12-01")

    full, mon, tue = (
        folder / archive(SUNDAY, "full"),
        folder / archive("2026-11-30", "incr"),
        folder / archive("2026-12-01", "incr"),
    )
    assert media_of(full.read_bytes()) == {"media/handouts/sunday.pdf"}
    assert media_of(mon.read_bytes()) == {"media/handouts/monday.pdf"}
    assert media_of(tue.read_bytes()) == {"media/handouts/tuesday.pdf"}
    assert previous_of(tue.read_bytes()) == mon.name
    assert "The chain is whole" in tuesday.stdout


@needs_age
def test_with_the_real_command_an_encrypted_chain_restores_where_the_key_is(real_env, tmp_path):
    env, folder, media = real_env
    key, recipients = age_key(tmp_path)
    env = {**env, "BACKUP_AGE_RECIPIENTS_FILE": str(recipients)}
    run(env, SUNDAY)
    (media / "handouts" / "monday.pdf").write_bytes(b"%PDF monday")
    run(env, "2026-11-30")

    elsewhere = tmp_path / "offsite"
    elsewhere.mkdir()
    for name in (archive(SUNDAY, "full"), archive("2026-11-30", "incr")):
        (elsewhere / name).write_bytes(decrypt(key, folder / (name + ".age")))
    incr = elsewhere / archive("2026-11-30", "incr")
    assert media_of(incr.read_bytes()) == {"media/handouts/monday.pdf"}
    assert previous_of(incr.read_bytes()) == archive(SUNDAY, "full")
    checked = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "backup", "--verify", str(incr)]
        + ["--chain", str(elsewhere / archive(SUNDAY, "full"))],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "The chain is whole" in checked.stdout
