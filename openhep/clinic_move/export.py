"""Writing one clinic's archive: its rows, then its files, then the manifest."""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.files.storage import storages
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from clinic.audit import Actor, audit_record
from clinic.models import AuditEntry, Clinic, Membership, User
from clinic.storage import alias_of
from exercises.models import Category, Exercise, video_signature
from openhep.backup.archive import (
    MANIFEST,
    MEDIA,
    BackupError,
    Member,
    add_member,
    archive_write,
    unsafe_name,
)
from prescriptions.models import Delivery, Handout

from .rows import EXERCISE_M2M, TABLES, bundled_questionnaires, encode, fields, kind, user_row

KIND = "openhep-clinic"
VERSION = 1
DATA = "clinic.json.gz"
TOP_LEVEL = frozenset({DATA, MANIFEST})
# The apps whose tables the archive's rows come from: export and import must
# have applied the same migrations of these, so every field means the same.
APPS = ("auth", "clinic", "exercises", "outcomes", "patientpage", "prescriptions")


class ClinicMoveError(BackupError):
    """An export or import that cannot go ahead; the message says why."""


@dataclass(frozen=True)
class ExportResult:
    path: Path
    rows: dict[str, int]  # label -> rows written
    users: int
    files: int
    file_bytes: int
    # Emails queued or being retried: a worker of the source may still send them,
    # the target's will not (they are carried as they are).
    pending_deliveries: int
    # Handouts still being drawn (or whose drawing failed) when the rows were read.
    unready_handouts: int = 0


def applied_migrations(using: str = DEFAULT_DB_ALIAS) -> dict[str, list[str]]:
    applied = MigrationRecorder(connections[using]).applied_migrations()
    return {app: sorted(name for a, name in applied if a == app) for app in APPS}


def member_name(alias: str, name: str) -> str:
    """Where a stored file goes in the archive: under its storage, as it is named there."""
    return f"{MEDIA}/{alias}/{name}"


def clinic_export(
    *, clinic: Clinic, output: Path, actor: Actor, using: str = DEFAULT_DB_ALIAS
) -> ExportResult:
    """Write ``clinic``'s rows and files to one archive at ``output``.

    The export is recorded in the clinic's trail first (so the archive holds
    its own entry). The rows are read in one transaction (on PostgreSQL a
    repeatable-read snapshot); the archive is written to a temporary file beside
    ``output`` (0600) and renamed when complete. Refuses, writing nothing, when
    a file the rows name is missing from its storage or the clinic's rows refer
    to another clinic's exercise.
    """
    if output.exists():
        raise ClinicMoveError(f"{output} already exists; choose another --output.")
    connection = connections[using]
    audit_record(
        actor=actor,
        action=AuditEntry.Action.EXPORT,
        clinic=clinic,
        detail="Clinic exported to an archive",
    )
    output.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with (
        tempfile.TemporaryDirectory(dir=output.parent, prefix=".openhep-clinic-") as work,
        transaction.atomic(using=using),
    ):
        if connection.vendor == "postgresql" and not connection.savepoint_ids:
            # The outermost transaction (not a savepoint in a caller's): a snapshot.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        data, files = _read(Clinic.objects.get(pk=clinic.pk))
        header = {
            "format": 2,
            "kind": KIND,
            "version": VERSION,
            "created_at": timezone.now().isoformat(),
            "clinic": clinic.slug,
            "migrations": applied_migrations(using),
        }
        partial = Path(work) / "archive.tar"
        missing: list[str] = []
        with archive_write(partial, Path(work), header) as writing:
            body = gzip.compress(
                json.dumps(data, ensure_ascii=False, sort_keys=True).encode(), mtime=0
            )
            with tempfile.TemporaryFile(dir=work) as f:
                f.write(body)
                f.seek(0)
                writing.manifest.add(add_member(writing.tar, DATA, f, len(body)))
            for alias, name in files:
                member = member_name(alias, name)
                if reason := unsafe_name(member, top_level=TOP_LEVEL):
                    raise ClinicMoveError(f"Cannot archive the file {name!r}: {reason}.")
                storage = storages[alias]
                try:
                    size = storage.size(name)
                    with storage.open(name, "rb") as f:
                        entry = add_member(writing.tar, member, f, size)
                except FileNotFoundError:
                    missing.append(f"{alias}:{name}")
                    continue
                writing.manifest.add(Member(entry.name, entry.sha256, entry.size, storage=alias))
            if missing:
                raise ClinicMoveError(
                    f"Nothing was exported: {len(missing)} files the clinic's records "
                    f"name are missing from storage ({', '.join(missing[:10])}). "
                    "Restore them from a back-up first."
                )
        summary = writing.summary
        assert summary is not None
        os.replace(partial, output)
    rows = {label: len(table_rows) for label, table_rows in data["tables"].items()}
    pending = sum(
        1 for row in data["tables"]["prescriptions.Delivery"] if row["status"] in _PENDING
    )
    handouts = data["tables"]["prescriptions.Handout"]
    unready = sum(1 for row in handouts if row["status"] != Handout.Status.READY)
    return ExportResult(
        path=output,
        rows=rows,
        users=len(data["users"]),
        files=summary["media_files"],
        file_bytes=summary["media_bytes"],
        pending_deliveries=pending,
        unready_handouts=unready,
    )


_PENDING = {*Delivery.PENDING, Delivery.Status.SENDING}


def _read(clinic: Clinic) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The clinic's rows as JSON values, and the files they name (storage alias, name)."""
    objects = {table.label: list(table.rows(clinic).order_by("pk")) for table in TABLES}
    user_ids: set[int] = set()
    exercise_ids: set[int] = set()
    for table in TABLES:
        for field in fields(table.model):
            how = kind(field)
            if how in ("user", "exercise"):
                target = user_ids if how == "user" else exercise_ids
                target.update(
                    v for obj in objects[table.label] if (v := getattr(obj, field.attname))
                )
    own = objects["exercises.Exercise"]
    m2m = {
        exercise.pk: {
            name: sorted(getattr(exercise, name).values_list("pk", "slug")) for name in EXERCISE_M2M
        }
        for exercise in own
    }
    exercise_ids.update(pk for links in m2m.values() for pk, _ in links["related"])
    exercises = Exercise.objects.filter(pk__in=exercise_ids).values_list("pk", "slug", "clinic_id")
    foreign = sorted(slug for _, slug, owner in exercises if owner not in (None, clinic.pk))
    if foreign:
        raise ClinicMoveError(
            f"The clinic's records refer to exercises of another clinic: {', '.join(foreign)}."
        )
    slugs = {pk: slug for pk, slug, _ in exercises}
    asked = {
        getattr(obj, field.attname)
        for table in TABLES
        for field in fields(table.model)
        if kind(field) == "questionnaire"
        for obj in objects[table.label]
    }
    bundled = bundled_questionnaires(asked)
    categories = dict(Category.objects.values_list("pk", "slug"))
    members = set(Membership.objects.filter(clinic=clinic).values_list("user_id", flat=True))
    users = list(User.objects.filter(pk__in=user_ids | members).order_by("pk"))
    emails = {user.pk: user.email for user in users}

    tables: dict[str, list[dict[str, Any]]] = {}
    files: list[tuple[str, str]] = []
    for table in TABLES:
        file_fields = [f for f in fields(table.model) if isinstance(f, models.FileField)]
        encoded = []
        for obj in objects[table.label]:
            row = encode(obj, slugs=slugs, emails=emails, bundled=bundled, categories=categories)
            if table.model is Exercise:
                for name, links in m2m[obj.pk].items():
                    row[name] = [slug for _, slug in links]
                # Its printed video links (/v/<slug>/<signature>) keep opening on the
                # target: the signature made here under this SECRET_KEY goes with it.
                signature = video_signature(obj)
                if signature not in row["moved_video_signatures"]:
                    row["moved_video_signatures"] = [*row["moved_video_signatures"], signature]
            files.extend(
                (alias_of(f.storage), row[f.attname]) for f in file_fields if row[f.attname]
            )
            encoded.append(row)
        tables[table.label] = encoded
    clinic_row = encode(clinic, slugs={}, emails={})
    if clinic.logo:
        files.insert(0, (alias_of(clinic.logo.storage), clinic.logo.name))  # type: ignore[arg-type]
    data = {
        "kind": KIND,
        "version": VERSION,
        "clinic": clinic_row,
        "users": [user_row(user, member=user.pk in members) for user in users],
        "tables": tables,
    }
    return data, files
