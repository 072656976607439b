"""The container's health check: GET /healthz on the web role's own port.

Exit 0 when it answers 200, 1 otherwise. The image runs this for every role;
only ``web`` serves HTTP, so for the others (worker, scheduler, a one-shot) it
answers healthy without asking anything. It sends the first of ALLOWED_HOSTS as
the Host header (the app refuses any other) and X-Forwarded-Proto: https, as the
proxy in front would. Standard library only: it runs every 30 seconds.
"""

import os
import sys
import urllib.error
import urllib.request
from pathlib import Path


def role() -> str:
    """The role the container was started with: the argument after entrypoint.sh."""
    try:
        args = Path("/proc/1/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "web"
    for index, arg in enumerate(args):
        if arg.endswith(b"entrypoint.sh"):
            following = args[index + 1 : index + 2]
            return following[0].decode() if following and following[0] else "web"
    return "web"


def host() -> str:
    for name in os.environ.get("ALLOWED_HOSTS", "").split(","):
        name = name.strip().lstrip(".")
        if name and "*" not in name:
            return name
    return "localhost"


def main() -> int:
    if role() != "web":
        return 0
    bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
    port = bind.rsplit(":", 1)[-1]
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz",
        headers={"Host": host(), "X-Forwarded-Proto": "https"},
    )
    try:
        with urllib.request.urlopen(request, timeout=4) as response:  # noqa: S310 (loopback)
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"healthz: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
