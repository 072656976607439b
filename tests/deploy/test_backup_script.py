"""deploy/backup.sh, the nightly job: the archive lands in BACKUP_DIR readable by
its owner only, is encrypted with age when recipients are given (the plain copy
removed), and archives past BACKUP_KEEP_DAYS are deleted. A stand-in Python
plays `manage.py backup`; tests/openhep/test_backup.py covers the command."""

import os
import shutil
import stat
import subprocess
import sys
import time

import pytest

from tests.deploy.conftest import DEPLOY


@pytest.fixture
def backup_env(tmp_path):
    python = tmp_path / "python"
    # Writes a small archive where `manage.py backup --output FILE` was asked to.
    python.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "open(sys.argv[sys.argv.index('--output') + 1], 'wb').write(b'archive')\n"
    )
    python.chmod(0o755)
    folder = tmp_path / "backups"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "OPENHEP_PYTHON": str(python),
        "BACKUP_DIR": str(folder),
    }
    return env, folder


def run(env):
    return subprocess.run(
        [str(DEPLOY / "backup.sh")], env=env, capture_output=True, text=True, timeout=60
    )


def test_writes_a_private_archive_and_prunes_old_ones(backup_env):
    env, folder = backup_env
    folder.mkdir()
    old = folder / "openhep-backup-20200101-021500.tar.age"
    old.write_bytes(b"old")
    month_ago = time.time() - 30 * 86400
    os.utime(old, (month_ago, month_ago))
    unrelated = folder / "notes.txt"
    unrelated.write_text("kept")
    os.utime(unrelated, (month_ago, month_ago))

    result = run(env)
    assert result.returncode == 0, result.stderr
    [archive] = folder.glob("openhep-backup-*.tar")
    assert archive.read_bytes() == b"archive"
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert not old.exists()
    assert unrelated.exists()


@pytest.mark.skipif(
    shutil.which("age") is None and not os.environ.get("CI"), reason="age is not installed"
)
def test_encrypts_with_age_when_recipients_are_given(backup_env, tmp_path):
    env, folder = backup_env
    key = tmp_path / "key.txt"
    subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
    public = next(line.split(": ")[1] for line in key.read_text().splitlines() if "public" in line)
    recipients = tmp_path / "recipients.txt"
    recipients.write_text(public + "\n")

    result = run({**env, "BACKUP_AGE_RECIPIENTS_FILE": str(recipients)})
    assert result.returncode == 0, result.stderr
    [encrypted] = folder.glob("openhep-backup-*")
    assert encrypted.name.endswith(".tar.age")
    plain = subprocess.run(
        ["age", "-d", "-i", str(key), str(encrypted)], check=True, capture_output=True
    )
    assert plain.stdout == b"archive"
