#!/bin/sh
# Make a local base image for the Containerfile where no container registry can
# be reached (an offline or air-gapped build machine with a Debian mirror).
# The result has the layout of the python:3.12-slim-bookworm image that the
# Containerfile expects by default: Debian bookworm, Python 3.12 in /usr/local.
#
#   deploy/local-base-image.sh MIRROR PYTHON_PREFIX [IMAGE_NAME]
#
#   MIRROR         the Debian mirror this machine's apt uses (its sources list)
#   PYTHON_PREFIX  a CPython 3.12 built on Debian bookworm (e.g. a pyenv version
#                  folder); it is copied into /usr/local without its test suite
#   IMAGE_NAME     default localhost/python:3.12-slim-bookworm
#
# EXTRA_CA_CERT=/path/bundle.crt adds certificates to the image's trust store
# (a machine whose outbound TLS goes through an intercepting proxy needs its CA
# inside the build). PODMAN_OPTS passes options to podman (--storage-driver vfs).
# Needs root, debootstrap and podman.
set -eu

mirror=${1:?usage: $0 MIRROR PYTHON_PREFIX [IMAGE_NAME]}
prefix=${2:?usage: $0 MIRROR PYTHON_PREFIX [IMAGE_NAME]}
image=${3:-localhost/python:3.12-slim-bookworm}
[ -x "$prefix/bin/python3.12" ] || { echo "$prefix/bin/python3.12 not found" >&2; exit 1; }

rootfs=$(mktemp -d /tmp/openhep-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
chmod 0755 "$rootfs"  # It becomes the image's /: mktemp made it the owner's only.

# The shared libraries CPython's own modules load (ssl, ctypes, sqlite3, bz2, lzma...).
debootstrap --variant=minbase \
  --include=ca-certificates,libssl3,libffi8,libsqlite3-0,libbz2-1.0,liblzma5,zlib1g,libreadline8,libncursesw6,libuuid1,libexpat1,libnsl2,libtirpc3 \
  bookworm "$rootfs" "$mirror"

# CPython into /usr/local, as the python:3.12-slim images have it.
tar -C "$prefix" \
  --exclude='lib/python3.12/test' --exclude='lib/python3.12/idlelib' \
  --exclude='lib/python3.12/tkinter' --exclude='lib/python3.12/turtledemo' \
  --exclude='_tkinter.*' --exclude='__pycache__' --exclude='*.a' --exclude='lib/python3.12/site-packages/*' \
  --exclude='bin/idle*' --exclude='bin/2to3*' \
  -cf - bin include lib share 2>/dev/null | tar -C "$rootfs/usr/local" -xf -
for name in python3 python; do ln -sf python3.12 "$rootfs/usr/local/bin/$name"; done
chroot "$rootfs" /sbin/ldconfig
chroot "$rootfs" /usr/local/bin/python3.12 -m ensurepip --default-pip >/dev/null
chroot "$rootfs" /usr/local/bin/python3.12 -c 'import ssl, sqlite3, ctypes, lzma, bz2, zlib, uuid'

if [ -n "${EXTRA_CA_CERT:-}" ]; then
  cp "$EXTRA_CA_CERT" "$rootfs/usr/local/share/ca-certificates/openhep-build-extra.crt"
  chroot "$rootfs" update-ca-certificates >/dev/null
fi

# The build's own apt sources and caches go; the image keeps the mirror's sources list.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb

set -- --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]'
if [ -n "${EXTRA_CA_CERT:-}" ]; then
  # pip and uv ship their own CA lists: point them at the system's, which now has the extra CA.
  set -- "$@" --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt'
fi
# shellcheck disable=SC2086
tar -C "$rootfs" -c . | podman ${PODMAN_OPTS:-} import "$@" - "$image"
echo "Built $image"
