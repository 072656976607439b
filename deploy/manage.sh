#!/bin/sh
# On a plain server: run a manage.py command as the openhep user, with the
# services' settings (/etc/openhep/openhep.env) and secrets (systemd credentials
# from /etc/openhep/credentials, which only root can read), through systemd-run:
#
#   sudo /srv/openhep/app/deploy/manage.sh clinic_create --name "Harbour Physio" --admin-email sam@example.org
#   sudo /srv/openhep/app/deploy/manage.sh createsuperuser
#
# Files it writes (load_library's pictures, a restore) belong to openhep, as the
# app's own do. OPENHEP_ETC (default /etc/openhep) and OPENHEP_USER (openhep)
# change where and who.
set -eu

[ $# -ge 1 ] || { echo "usage: $0 COMMAND [ARGS...]  (any manage.py command)" >&2; exit 64; }
here=$(cd "$(dirname "$0")/.." && pwd)
etc=${OPENHEP_ETC:-/etc/openhep}
user=${OPENHEP_USER:-openhep}
unit="openhep-manage-$$"
credentials="/run/credentials/$unit.service"

set -- --unit="$unit" --quiet --wait --collect --service-type=exec \
  --property=User="$user" --property=WorkingDirectory="$here" \
  --property=EnvironmentFile="$etc/openhep.env" \
  --property=LoadCredential=secret_key:"$etc/credentials/secret_key" \
  --property=LoadCredential=database_url:"$etc/credentials/database_url" \
  --property=LoadCredential=email_url:"$etc/credentials/email_url" \
  --setenv=SECRET_KEY_FILE="$credentials/secret_key" \
  --setenv=DATABASE_URL_FILE="$credentials/database_url" \
  --setenv=EMAIL_URL_FILE="$credentials/email_url" \
  -- "$here/deploy/entrypoint.sh" manage "$@"
# A terminal for commands that ask questions (createsuperuser, restore); else pipes.
if [ -t 0 ] && [ -t 1 ]; then mode=--pty; else mode=--pipe; fi
exec "${SYSTEMD_RUN:-systemd-run}" "$mode" "$@"
