#!/bin/sh
# OpenHEP's start script: the container image's entrypoint, and ExecStart of the
# systemd units on a plain server. The first argument is the role:
#
#   web               gunicorn on GUNICORN_BIND (0.0.0.0:8000); RUN_MIGRATIONS=1 migrates first
#   worker [ARGS]     manage.py db_worker (the task queue: handout and password reset emails)
#   migrate           manage.py migrate; then copies the collected static files to
#                     STATIC_EXPORT_DIR when it is set (for a proxy that serves them)
#   scheduler         the periodic jobs, in one long-running process (deploy/scheduler.py)
#   job NAME          one periodic job now (systemd timers run these)
#   manage ARGS       any manage.py command, e.g. `manage clinic_create --name ...`
#   anything else     run as given (e.g. `sh`)
#
# Before starting, it checks the settings a production installation cannot run
# without, and stops with exit status 78 (configuration error) naming what is
# missing: SECRET_KEY, DATABASE_URL, for web ALLOWED_HOSTS, for web and worker
# EMAIL_URL. Each may be given as NAME or as NAME_FILE, a file holding the value,
# in the environment or in a .env file beside manage.py.
# DEBUG=1 (trying it out) skips the checks of SECRET_KEY, ALLOWED_HOSTS and EMAIL_URL.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
python=${OPENHEP_PYTHON:-}
if [ -z "$python" ]; then
  if [ -x "$here/.venv/bin/python" ]; then python="$here/.venv/bin/python"; else python=python3; fi
fi
manage="$here/manage.py"

fail() {
  echo "openhep: $*" >&2
  exit 78
}

is_on() {
  case "$(printf %s "${1:-}" | tr '[:upper:]' '[:lower:]')" in
    1 | true | yes | on) return 0 ;;
    *) return 1 ;;
  esac
}

# A setting as the app sees it: from the environment, else from a .env file
# beside manage.py (the environment wins, as in openhep/settings.py).
setting() {
  eval "present=\${$1+yes}"
  if [ -n "$present" ]; then
    eval "printf %s \"\$$1\""
  elif [ -f "$here/.env" ]; then
    sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$here/.env" | tail -n 1 |
      sed "s/^[\"']//; s/[\"']\$//"
  fi
}

# The value of NAME, or of the file named by NAME_FILE (which wins, as in the
# settings); empty when neither is set. Never printed.
value_of() {
  path=$(setting "$1_FILE")
  if [ -n "$path" ]; then
    tr -d '[:space:]' <"$path"
  else
    setting "$1"
  fi
}

require() {
  path=$(setting "$1_FILE")
  if [ -n "$path" ] && [ ! -r "$path" ]; then
    fail "$1_FILE is $path, which user $(id -un 2>/dev/null || id -u) cannot read."
  fi
  [ -n "$(value_of "$1")" ] || fail "$1 is not set. $2 (Set $1, or $1_FILE to a file holding it.)"
}

check_settings() {
  role=$1
  debug=false
  if is_on "$(setting DEBUG)"; then debug=true; fi
  if ! $debug; then
    require SECRET_KEY "Generate one: python3 -c 'import secrets; print(secrets.token_urlsafe(50))'."
    [ "$(value_of SECRET_KEY)" != "change-me-to-a-long-random-string" ] ||
      fail "SECRET_KEY is still the example from .env.example: generate a real one."
  fi
  require DATABASE_URL "e.g. postgres://openhep:PASSWORD@db:5432/openhep (or sqlite:////srv/openhep/data/db.sqlite3 for one small installation)."
  if ! $debug; then
    if [ "$role" = web ]; then
      [ -n "$(setting ALLOWED_HOSTS)" ] || fail "ALLOWED_HOSTS is not set: the host name(s) this installation answers to, e.g. openhep.example.org."
    fi
    if [ "$role" = web ] || [ "$role" = worker ]; then
      require EMAIL_URL "Handouts and password resets are emailed: e.g. smtp://user:pass@smtp.example.org:587/?tls=1."
    fi
  fi
}

migrate() {
  "$python" "$manage" migrate --no-input
}

role=${1:-web}
[ $# -gt 0 ] && shift

case "$role" in
  web)
    check_settings web
    if is_on "${RUN_MIGRATIONS:-0}"; then migrate; fi
    set -- --config "$here/deploy/gunicorn.conf.py" \
      --bind "${GUNICORN_BIND:-0.0.0.0:8000}" --workers "${WEB_CONCURRENCY:-2}" "$@"
    # The heartbeat files of gunicorn's workers on a RAM disk, not the image's overlay.
    if [ -d /dev/shm ] && [ -w /dev/shm ]; then set -- --worker-tmp-dir /dev/shm "$@"; fi
    cd "$here"
    exec "$python" -m gunicorn openhep.wsgi "$@"
    ;;
  worker)
    check_settings worker
    case "$(setting TASKS_BACKEND)" in
      django_tasks_db.DatabaseBackend) ;;
      *) fail "TASKS_BACKEND is '$(setting TASKS_BACKEND)': the worker runs tasks queued in the database, so set TASKS_BACKEND=django_tasks_db.DatabaseBackend (for web too)." ;;
    esac
    exec "$python" "$manage" db_worker "$@"
    ;;
  migrate)
    check_settings migrate
    migrate
    if [ -n "${STATIC_EXPORT_DIR:-}" ]; then
      static_root=${STATIC_ROOT:-$here/var/static}
      [ -f "$static_root/staticfiles.json" ] || fail "STATIC_ROOT ($static_root) has no collected static files to copy."
      [ -d "$STATIC_EXPORT_DIR" ] || fail "STATIC_EXPORT_DIR ($STATIC_EXPORT_DIR) is not a folder."
      # Files of earlier versions stay: pages cached before an upgrade still find theirs.
      cp -R "$static_root/." "$STATIC_EXPORT_DIR/"
      echo "openhep: static files copied to $STATIC_EXPORT_DIR"
    fi
    ;;
  scheduler)
    check_settings scheduler
    exec "$python" "$here/deploy/scheduler.py" "$@"
    ;;
  job)
    [ $# -ge 1 ] || { echo "usage: $0 job NAME (deploy/scheduler.py --list names them)" >&2; exit 64; }
    check_settings job
    exec "$python" "$here/deploy/scheduler.py" --run "$@"
    ;;
  manage)
    check_settings manage
    exec "$python" "$manage" "$@"
    ;;
  *)
    exec "$role" "$@"
    ;;
esac
