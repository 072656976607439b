"""The PostgreSQL client programs (pg_dump, pg_restore) that back-up and restore run."""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any

from .archive import BackupError


def pg_command(
    program: str, settings_dict: dict[str, Any], arguments: list[str]
) -> tuple[list[str], dict[str, str]]:
    """The argv and environment for a PostgreSQL client program. Connection
    details go in libpq's environment variables; the password never on the
    command line, where other users could read it from the process list."""
    executable = shutil.which(program)
    if executable is None:
        raise BackupError(
            f"{program} was not found on PATH. Install the PostgreSQL client programs "
            "(Debian: apt-get install postgresql-client) of the server's major version or newer."
        )
    options = settings_dict.get("OPTIONS") or {}
    env = dict(os.environ)
    for variable, value in {
        "PGHOST": settings_dict.get("HOST"),
        "PGPORT": settings_dict.get("PORT"),
        "PGUSER": settings_dict.get("USER"),
        "PGDATABASE": settings_dict.get("NAME"),
        "PGPASSWORD": settings_dict.get("PASSWORD"),
        "PGSERVICE": options.get("service"),
        "PGPASSFILE": options.get("passfile"),
        "PGSSLMODE": options.get("sslmode"),
        "PGSSLROOTCERT": options.get("sslrootcert"),
        "PGSSLCERT": options.get("sslcert"),
        "PGSSLKEY": options.get("sslkey"),
    }.items():
        if value:
            env[variable] = str(value)
    return [executable, "--no-password", *arguments], env


def pg_run(program: str, settings_dict: dict[str, Any], arguments: list[str]) -> None:
    argv, env = pg_command(program, settings_dict, arguments)
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(
            f"{program} failed (exit {result.returncode}): {result.stderr.strip() or 'no output'}"
        )
