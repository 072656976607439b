"""gunicorn's configuration file for OpenHEP (``entrypoint.sh web`` passes it with -c).

Bind address and worker count come from the command line that entrypoint.sh
builds (GUNICORN_BIND, WEB_CONCURRENCY); GUNICORN_CMD_ARGS adds any other option.
This file holds what only a configuration file can: the hooks that keep the
Prometheus counts of several workers in PROMETHEUS_MULTIPROC_DIR
(docs/operations.md, Monitoring).
"""

from openhep.metrics import child_exit, on_starting  # noqa: F401
