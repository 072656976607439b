"""`make run` writes a development .env, so every manage.py command works in a checkout
(createsuperuser used to stop with "SECRET_KEY is not set")."""

import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def checkout(tmp_path):
    """A copy of the Makefile with an installed environment: the interpreter running
    these tests stands in for .venv/bin/python, so nothing is installed."""
    for name in ("Makefile", "pyproject.toml", "uv.lock", ".python-version"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "openhep", tmp_path / "openhep")
    (tmp_path / ".tools" / "bin").mkdir(parents=True)
    (tmp_path / ".tools" / "bin" / "uv").write_text("")
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    os.symlink(sys.executable, tmp_path / ".venv" / "bin" / "python")
    time.sleep(0.01)  # The install marker must be newer than what it depends on.
    (tmp_path / ".venv" / ".synced").write_text("")
    return tmp_path


def make_env(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "-s", ".env"], cwd=folder, capture_output=True, text=True, check=True
    )


def test_make_writes_a_private_development_env_once(checkout):
    first = make_env(checkout)
    env = checkout / ".env"
    text = env.read_text()
    assert "Wrote .env" in first.stdout
    assert "DEBUG=1" in text.splitlines()
    key = next(line for line in text.splitlines() if line.startswith("SECRET_KEY="))
    assert len(key.removeprefix("SECRET_KEY=")) >= 50
    assert stat.S_IMODE(env.stat().st_mode) == 0o600  # A secret: the owner's only.
    make_env(checkout)
    assert env.read_text() == text, "an existing .env is never overwritten"


def test_with_that_env_manage_py_works_without_debug_in_the_environment(checkout):
    refused = subprocess.run(
        [sys.executable, "-c", "from openhep import settings"],
        cwd=checkout,
        env={k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")},
        capture_output=True,
        text=True,
    )
    assert "SECRET_KEY is not set" in refused.stderr  # Before: a new checkout stops here.
    make_env(checkout)
    environment = {
        k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "DATABASE_URL")
    }
    # Without .env this import stops with "SECRET_KEY is not set" (as createsuperuser did).
    result = subprocess.run(
        [sys.executable, "-c", "from openhep import settings; print(settings.DEBUG, 'ready')"],
        cwd=checkout,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True ready"
