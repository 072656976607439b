#!/bin/sh
# The nightly back-up (docs/operations.md): manage.py backup into BACKUP_DIR, then,
# when BACKUP_AGE_RECIPIENTS_FILE names a file of age public keys, encrypted with
# age and the plain archive removed; archives older than BACKUP_KEEP_DAYS (14) are
# deleted. Copying BACKUP_DIR off the machine is the operator's part: a back-up
# on the same disk as the database does not survive that disk.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
python=${OPENHEP_PYTHON:-}
if [ -z "$python" ]; then
  if [ -x "$here/.venv/bin/python" ]; then python="$here/.venv/bin/python"; else python=python3; fi
fi
dir=${BACKUP_DIR:-$here/var/backups}
keep=${BACKUP_KEEP_DAYS:-14}
recipients=${BACKUP_AGE_RECIPIENTS_FILE:-}

umask 077
mkdir -p "$dir"
file="$dir/openhep-backup-$(date +%Y%m%d-%H%M%S).tar"
"$python" "$here/manage.py" backup --output "$file"

if [ -n "$recipients" ]; then
  age -R "$recipients" -o "$file.age.part" "$file"
  mv "$file.age.part" "$file.age"
  rm -f "$file"
  echo "Encrypted: $file.age"
fi

find "$dir" -maxdepth 1 -type f -name 'openhep-backup-*' -mtime +"$keep" -print -delete
