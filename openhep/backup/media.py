"""Where media files live: MEDIA_ROOT on this disk, or a bucket behind a storage."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages

from clinic.storage import PUBLIC, alias_of

# Restore writes each file under a temporary name beside its place, ending so;
# one left by a restore that was killed is no media file and is not backed up.
PARTIAL_SUFFIX = ".openhep-restoring"


def storage_alias(where: str) -> str:
    """The STORAGES alias of a field named "app.Model.field"."""
    label, field_name = where.rsplit(".", 1)
    return alias_of(apps.get_model(label)._meta.get_field(field_name).storage)


def is_local(alias: str) -> bool:
    """A storage in MEDIA_ROOT, whose every file the back-up walks."""
    storage = storages[alias]
    return isinstance(storage, FileSystemStorage) and Path(storage.location) == Path(
        settings.MEDIA_ROOT
    )


def media_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(posix path relative to root, path) for every regular file; symlinks are skipped."""
    if not root.is_dir() or not any(is_local(alias) for alias in ("default", PUBLIC)):
        return
    for directory, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for filename in sorted(filenames):
            if filename.endswith(PARTIAL_SUFFIX):
                continue
            path = Path(directory) / filename
            if path.is_file() and not path.is_symlink():
                yield path.relative_to(root).as_posix(), path


def is_not_found(error: Exception) -> bool:
    """A bucket's "no such key", however the storage library words it."""
    return "404" in str(error) or "NoSuchKey" in str(error) or "Not Found" in str(error)
