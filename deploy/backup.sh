#!/bin/sh
# The nightly back-up (docs/operations.md, "Chains every night"): manage.py backup into
# BACKUP_DIR, a full back-up on BACKUP_FULL_WEEKDAY (ISO 1-7, default 7: Sunday)
# and an incremental one (--since the newest archive of this week's chain) on the
# other nights; each is checked with backup --verify (an incremental with the
# earlier archives of its chain while they are readable). When
# BACKUP_AGE_RECIPIENTS_FILE names a file of age public keys, the archive is then
# encrypted and the plain one removed, keeping a plain copy of its manifest
# beside it (ARCHIVE.manifest.jsonl.gz: names, sizes and checksums, no content)
# for the next night's --since. Chains are deleted whole, once their newest
# archive is older than BACKUP_KEEP_DAYS (14). Copying BACKUP_DIR off the
# machine is the operator's part: a back-up on the same disk as the database
# does not survive that disk.
#
# Archives: openhep-backup-YYYYmmdd-HHMMSS-full.tar (a chain's first) and
# openhep-backup-YYYYmmdd-HHMMSS-incr.tar, each with .age when encrypted.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
python=${OPENHEP_PYTHON:-}
if [ -z "$python" ]; then
  if [ -x "$here/.venv/bin/python" ]; then python="$here/.venv/bin/python"; else python=python3; fi
fi
dir=${BACKUP_DIR:-$here/var/backups}
keep=${BACKUP_KEEP_DAYS:-14}
full_day=${BACKUP_FULL_WEEKDAY:-7}
recipients=${BACKUP_AGE_RECIPIENTS_FILE:-}
# The clock, for tests only: a time date -d reads ("2026-11-29 02:15:00").
now=$(date -d "${OPENHEP_BACKUP_NOW:-now}" +%s)
sidecar=.manifest.jsonl.gz

case $full_day in [1-7]) ;; *)
  echo "BACKUP_FULL_WEEKDAY must be 1 (Monday) to 7 (Sunday), not '$full_day'." >&2
  exit 2
  ;;
esac
case $keep in '' | *[!0-9]*)
  echo "BACKUP_KEEP_DAYS must be a whole number of days, not '$keep'." >&2
  exit 2
  ;;
esac

stamp() { # seconds since 1970 -> YYYYmmdd-HHMMSS, as in the archives' names
  date -d "@$1" +%Y%m%d-%H%M%S
}

older() { # STAMP CUTOFF: true when STAMP is before CUTOFF (same format: text order)
  expr "$1" \< "$2" >/dev/null
}

# The names of the archives this script made, oldest first (names without
# spaces, so lists of them are split on spaces; BACKUP_DIR may hold some).
archives() {
  for f in "$dir"/openhep-backup-*-full.tar "$dir"/openhep-backup-*-full.tar.age \
    "$dir"/openhep-backup-*-incr.tar "$dir"/openhep-backup-*-incr.tar.age; do
    if [ -f "$f" ]; then echo "${f##*/}"; fi
  done | sort
}

# The newest chain: $chain (its archives, oldest first), $chain_full (the stamp
# of its full back-up; empty when it has none) and $latest (its newest archive).
newest_chain() {
  chain="" chain_full="" latest=""
  for name in $(archives); do
    case $name in
      *-full.tar | *-full.tar.age) chain=$name chain_full=$(echo "$name" | cut -c16-30) ;;
      *) chain="$chain $name" ;;
    esac
    latest=$name
  done
}

umask 077
mkdir -p "$dir"

# Full or incremental: --since reads only the previous archive's manifest, from
# the archive, or from the copy kept beside an encrypted one.
newest_chain
kind=full since=""
if [ "$(date -d "@$now" +%u)" != "$full_day" ] && [ -n "$chain_full" ] &&
  ! older "$chain_full" "$(stamp $((now - 7 * 86400)))"; then
  case $latest in
    *.age) if [ -f "$dir/${latest%.age}$sidecar" ]; then since=$dir/${latest%.age}$sidecar; fi ;;
    *) since=$dir/$latest ;;
  esac
  if [ -n "$since" ]; then kind=incr; fi
fi

file="$dir/openhep-backup-$(stamp "$now")-$kind.tar"
if [ "$kind" = incr ]; then
  if ! "$python" "$here/manage.py" backup --output "$file" --since "$since"; then
    echo "The incremental back-up since $since failed: making a full one." >&2
    kind=full
    file="$dir/openhep-backup-$(stamp "$now")-full.tar"
  fi
fi
if [ "$kind" = full ]; then
  "$python" "$here/manage.py" backup --output "$file"
fi

# Check it while it is readable; an incremental with its chain when every
# earlier archive is (an encrypted one cannot be read here: check the chain
# where the private key is, docs/operations.md).
set -- backup --verify "$file"
case $kind:$chain in incr:*.age*) ;; incr:*)
  set -- "$@" --chain
  for name in $chain; do set -- "$@" "$dir/$name"; done
  ;;
esac
if ! "$python" "$here/manage.py" "$@"; then
  mv "$file" "$file.failed-verify"
  echo "backup --verify failed: kept as $file.failed-verify, not part of a chain." >&2
  exit 1
fi

if [ -n "$recipients" ]; then
  tar -xOf "$file" manifest.jsonl.gz >"$file$sidecar.part"
  mv "$file$sidecar.part" "$file$sidecar"
  age -R "$recipients" -o "$file.age.part" "$file"
  mv "$file.age.part" "$file.age"
  rm -f "$file"
  echo "Encrypted: $file.age"
fi

# Delete whole chains whose newest archive is older than BACKUP_KEEP_DAYS: a
# full back-up goes only with every incremental one made since it.
cutoff=$(stamp $((now - keep * 86400)))
drop() {
  if [ -n "$group" ] && older "$group_newest" "$cutoff"; then
    for old in $group; do
      rm -f "$dir/$old" "$dir/${old%.age}$sidecar"
      echo "Deleted: $dir/$old"
    done
  fi
}
group="" group_newest=""
for name in $(archives); do
  case $name in *-full.tar | *-full.tar.age)
    drop
    group=""
    ;;
  esac
  group="$group $name" group_newest=$(echo "$name" | cut -c16-30)
done
drop

# Archives made otherwise (before chains, or by hand) by age, as before.
find "$dir" -maxdepth 1 -type f -name 'openhep-backup-*' \
  ! -name '*-full.tar' ! -name '*-full.tar.age' ! -name '*-full.tar.manifest.jsonl.gz' \
  ! -name '*-incr.tar' ! -name '*-incr.tar.age' ! -name '*-incr.tar.manifest.jsonl.gz' \
  -mtime +"$keep" -print -delete
