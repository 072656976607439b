"""Checking a clinic archive, then loading it beside the clinics already here."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from django.core.files import File
from django.core.files.storage import Storage
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.audit import Actor, audit_record
from clinic.models import AuditEntry, Clinic, Membership, User
from clinic.storage import alias_of
from exercises.models import (
    Category,
    ClinicMedia,
    Equipment,
    Exercise,
    Region,
    is_https_address,
)
from openhep.backup.archive import (
    MANIFEST,
    MEDIA,
    check_member,
    copy_hashing,
    manifest_lines,
    members,
)
from outcomes.models import Questionnaire

from .export import (
    DATA,
    KIND,
    TOP_LEVEL,
    VERSION,
    ClinicMoveError,
    applied_migrations,
    member_name,
)
from .rows import EXERCISE_M2M, TABLES, decode, fields, kind

logger = logging.getLogger(__name__)

_TAXA: dict[str, type[models.Model]] = {
    "regions": Region,
    "categories": Category,
    "equipment": Equipment,
}
_LISTED = 10


@dataclass(frozen=True)
class ClinicArchive:
    """A clinic archive whose every member matched its manifest when it was read."""

    path: Path
    header: dict[str, Any]
    data: dict[str, Any] = field(repr=False)
    # Every file member: name -> (SHA-256, size, storage alias).
    files: dict[str, tuple[str, int, str]] = field(repr=False)


@dataclass(frozen=True)
class ImportPlan:
    """What ``clinic_import`` would do with an archive here: why it would refuse
    (``problems``, empty when it would not) and what it would create."""

    problems: list[str]
    slug: str
    rows: dict[str, int]  # label -> rows it would insert
    users_created: int
    users_reused: int
    files: int
    file_bytes: int


@dataclass(frozen=True)
class ImportResult:
    clinic: Clinic
    rows: dict[str, int]
    users_created: int
    users_reused: int
    files: int


def clinic_archive_verify(*, path: Path) -> ClinicArchive:
    """Read the whole archive and check every member against its manifest (the
    same refusals as ``archive_verify``: unsafe or unexpected names, links,
    duplicates, members missing or extra, a damaged manifest, a checksum that
    differs). Nothing is written."""
    seen: dict[str, tuple[str, int]] = {}
    body = b""
    verified: ClinicArchive | None = None
    try:
        with tarfile.open(path, mode="r:") as tar:
            for member in members(tar):
                check_member(member, top_level=TOP_LEVEL)
                name = member.name
                if verified is not None:
                    raise ClinicMoveError(
                        f"The archive does not match its manifest: {name!r} follows it."
                    )
                if name in seen:
                    raise ClinicMoveError(f"The archive holds {name!r} twice.")
                source = tar.extractfile(member)
                assert source is not None  # a regular file (checked above)
                if name == MANIFEST:
                    verified = _compare(path, source, seen, body)
                elif name == DATA:
                    body = source.read()
                    seen[name] = (hashlib.sha256(body).hexdigest(), len(body))
                else:
                    seen[name] = copy_hashing(source)
    except FileNotFoundError as error:
        raise ClinicMoveError(f"No such archive: {path}") from error
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        raise ClinicMoveError(f"{path} is not a readable clinic archive ({error}).") from error
    if verified is None:
        raise ClinicMoveError(f"{path} has no manifest: not a clinic archive, or one cut short.")
    return verified


def _compare(
    path: Path, source: Any, seen: dict[str, tuple[str, int]], body: bytes
) -> ClinicArchive:
    header, entries = manifest_lines(source)
    if header.get("kind") != KIND or header.get("version") != VERSION:
        raise ClinicMoveError(
            f"{path} is not a clinic archive this code reads "
            f"(kind {header.get('kind')!r}, version {header.get('version')!r})."
        )
    files: dict[str, tuple[str, int, str]] = {}
    missing: list[str] = []
    damaged: list[str] = []
    listed_data = False
    for entry in entries:
        if entry.name in files or (entry.name == DATA and listed_data):
            raise ClinicMoveError(f"The archive's manifest lists {entry.name!r} twice.")
        found = seen.pop(entry.name, None)
        if found is None:
            missing.append(entry.name)
        elif found != (entry.sha256, entry.size):
            damaged.append(entry.name)
        elif entry.name == DATA:
            listed_data = True
        elif entry.name.startswith(f"{MEDIA}/") and entry.storage is not None:
            files[entry.name] = (entry.sha256, entry.size, entry.storage)
        else:
            damaged.append(entry.name)
    if missing or seen:
        raise ClinicMoveError(
            f"The archive does not match its manifest: missing {_some(missing) or 'nothing'}; "
            f"not listed {_some(sorted(seen)) or 'nothing'}."
        )
    if damaged:
        raise ClinicMoveError(f"Checksum mismatch (damaged or altered archive): {_some(damaged)}.")
    if not listed_data:
        raise ClinicMoveError("The archive holds no clinic data.")
    try:
        data = json.loads(gzip.decompress(body))
    except (OSError, EOFError, ValueError) as error:
        raise ClinicMoveError(f"The archive's clinic data cannot be read: {error}") from error
    return ClinicArchive(path=path, header=header, data=data, files=files)


def _some(names: list[str]) -> str:
    shown = ", ".join(names[:_LISTED])
    return shown + (f" and {len(names) - _LISTED} more" if len(names) > _LISTED else "")


def clinic_import_problems(archive: ClinicArchive, *, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Why the archive cannot be loaded here (empty when it can): checked before
    anything is written."""
    data, problems = archive.data, []
    if archive.header.get("migrations") != applied_migrations(using):
        problems.append(
            "the archive was made by an OpenHEP whose database is at other migrations "
            "(export and import with the same version, migrated)"
        )
        return problems  # its tables need not be the ones checked below
    slug = data["clinic"]["slug"]
    if Clinic.objects.filter(slug=slug).exists():
        problems.append(f"a clinic with the address name (slug) {slug!r} is already here")
    exercises = data["tables"]["exercises.Exercise"]
    own = {row["slug"] for row in exercises}
    if taken := sorted(Exercise.objects.filter(slug__in=own).values_list("slug", flat=True)):
        problems.append(f"exercise slugs already used here: {_some(taken)}")
    # The keys of its printed video links (/m/<key>) move with it: one here already
    # (the clinic imported before, or a 48-bit coincidence) would be ambiguous.
    media = data["tables"].get("exercises.ClinicMedia", [])
    keys = [row["key"] for row in media]
    if taken := sorted(ClinicMedia.objects.filter(key__in=keys).values_list("key", flat=True)):
        problems.append(f"clinic media link keys already used here: {_some(taken)}")
    # Video links are linked on staff pages and redirected to from printed handouts:
    # only the https addresses the form itself takes.
    unsafe = sorted(row["url"] for row in media if row["url"] and not is_https_address(row["url"]))
    if unsafe:
        problems.append(f"clinic video links that are not https addresses: {_some(unsafe)}")
    needed = _exercise_slugs(data) - own
    shared = set(
        Exercise.objects.filter(clinic__isnull=True, slug__in=needed).values_list("slug", flat=True)
    )
    if absent := sorted(needed - shared):
        problems.append(
            f"shared-library exercises the clinic uses are not in this library: {_some(absent)}"
        )
    presets = {row["category_id"] for row in data["tables"]["prescriptions.DosePreset"]}
    for name, model in _TAXA.items():
        wanted = {slug for row in exercises for slug in row[name]}
        if model is Category:
            wanted |= presets
        found = set(model._default_manager.filter(slug__in=wanted).values_list("slug", flat=True))
        if absent := sorted(wanted - found):
            problems.append(f"{model._meta.verbose_name_plural} not here: {_some(absent)}")
    needed = _bundled_names(data)
    if absent := sorted(n.removeprefix("bundled:") for n in needed - set(_bundled_here(needed))):
        problems.append(
            "bundled questionnaires the clinic's answers use are not here "
            f"(run load_library first): {_some(absent)}"
        )
    staff = [row["email"] for row in data["users"] if row["member"]]
    elsewhere = sorted(
        email
        for email in staff
        if Membership.objects.filter(user__in=User.objects.with_email(email)).exists()
    )
    if elsewhere:
        problems.append(f"staff already members of a clinic here: {_some(elsewhere)}")
    return problems


def clinic_import_plan(archive: ClinicArchive, *, using: str = DEFAULT_DB_ALIAS) -> ImportPlan:
    """``clinic_import --check``: every refusal and what would be created, from
    reads only (nothing is written, not even the trail)."""
    data = archive.data
    emails = [row["email"] for row in data["users"]]
    reused = sum(1 for email in emails if User.objects.with_email(email).exists())
    return ImportPlan(
        problems=clinic_import_problems(archive, using=using),
        slug=data["clinic"]["slug"],
        rows={table.label: len(data["tables"].get(table.label, [])) for table in TABLES},
        users_created=len(emails) - reused,
        users_reused=reused,
        files=len(archive.files),
        file_bytes=sum(size for _, size, _ in archive.files.values()),
    )


def _bundled_names(data: dict[str, Any]) -> set[str]:
    """The bundled questionnaires the rows refer to, as ``bundled:<slug>:<version>``."""
    names: set[str] = set()
    for table in TABLES:
        refs = [f.attname for f in fields(table.model) if kind(f) == "questionnaire"]
        for row in data["tables"].get(table.label, []):
            names.update(
                v for ref in refs if isinstance(v := row.get(ref), str) and v.startswith("bundled:")
            )
    return names


def _bundled_here(names: set[str]) -> dict[str, int]:
    """Those of ``names`` this installation has, by name -> id."""
    here = Questionnaire.objects.filter(clinic__isnull=True).values_list("pk", "slug", "version")
    return {
        f"bundled:{slug}:{version}": pk
        for pk, slug, version in here
        if f"bundled:{slug}:{version}" in names
    }


def _exercise_slugs(data: dict[str, Any]) -> set[str]:
    """Every exercise the rows refer to, by slug."""
    slugs: set[str] = set()
    for table in TABLES:
        refs = [f.attname for f in fields(table.model) if kind(f) == "exercise"]
        for row in data["tables"][table.label]:
            slugs.update(row[ref] for ref in refs if row[ref])
    for row in data["tables"]["exercises.Exercise"]:
        slugs.update(row["related"])
    return slugs


def clinic_import(
    *, archive: ClinicArchive, actor: Actor, using: str = DEFAULT_DB_ALIAS
) -> ImportResult:
    """Load a checked archive as a new clinic, beside the clinics already here.

    Every row gets a new id; users are matched by email (see ``_users``); the
    clinic's own exercises keep their slugs and the shared library's are found
    by slug. Nothing already here is changed. All in one transaction: files are
    written through each field's storage as the rows are inserted, and removed
    again if anything fails. Refuses (ClinicMoveError), writing nothing, for
    the reasons ``clinic_import_problems`` lists.
    """
    if problems := clinic_import_problems(archive, using=using):
        raise ClinicMoveError("The clinic cannot be imported here: " + "; ".join(problems) + ".")
    written: list[tuple[Storage, str]] = []
    try:
        with transaction.atomic(using=using), tarfile.open(archive.path, mode="r:") as tar:
            loader = _Loader(archive, tar, written)
            result = loader.load()
            audit_record(
                actor=actor,
                action=AuditEntry.Action.SETTINGS,
                clinic=result.clinic,
                detail="Imported from another installation",
            )
    except BaseException:
        for storage, name in written:
            try:
                storage.delete(name)
            except Exception:
                logger.exception("Import undone: could not remove the file %s", name)
        raise
    return result


BATCH = 1000


def _insert_raw(model: type[models.Model], objs: list[models.Model]) -> None:
    """Insert ``objs`` as they are, up to ``BATCH`` rows a statement, and set each
    one's new id from the database's answer (RETURNING, on PostgreSQL and on
    SQLite 3.35+).

    Not ``bulk_create``: it calls each field's ``pre_save``, so ``auto_now``
    fields would get the time of the import. This is the insert ``save_base(raw=
    True)`` makes, a batch at a time (raw: values as set, no signals sent — the
    row-by-row raw save sent them marked raw, which every receiver here ignores).
    """
    if not objs:
        return
    meta = model._meta
    manager = model._base_manager
    connection = connections[manager.db]
    insert = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field]
    returning = list(meta.db_returning_fields)
    if (
        meta.parents
        or not connection.features.can_return_rows_from_bulk_insert
        or returning != [meta.pk]
    ):
        for obj in objs:  # no ids back from a multi-row insert: one at a time
            obj.save_base(raw=True)
        return
    size = max(1, min(BATCH, connection.ops.bulk_batch_size(insert, objs)))
    for start in range(0, len(objs), size):
        batch = objs[start : start + size]
        results = manager._insert(  # type: ignore[attr-defined]
            batch, fields=insert, returning_fields=returning, raw=True, using=manager.db
        )
        for obj, values in zip(batch, results, strict=True):
            obj.pk = values[0]
            obj._state.adding = False
            obj._state.db = manager.db


class _Loader:
    def __init__(
        self, archive: ClinicArchive, tar: tarfile.TarFile, written: list[tuple[Storage, str]]
    ):
        self.archive, self.data, self.tar, self.written = archive, archive.data, tar, written
        self.index = {m.name: m for m in tar.getmembers()}
        self.ids: dict[str, dict[int, int]] = {table.label: {} for table in TABLES}
        self.users: dict[str, int] = {}
        self.exercises: dict[str, int] = {}
        self.bundled: dict[str, int] = {}
        self.categories: dict[str, int] = {}
        self.created = self.reused = 0

    def load(self) -> ImportResult:
        self._users()
        clinic = Clinic()
        self._fill(clinic, self.data["clinic"], clinic_id=0)
        clinic.save_base(raw=True)
        self.exercises = dict(
            Exercise.objects.filter(
                clinic__isnull=True, slug__in=_exercise_slugs(self.data)
            ).values_list("slug", "pk")
        )
        self.bundled = _bundled_here(_bundled_names(self.data))
        self.categories = dict(Category.objects.values_list("slug", "pk"))
        for table in TABLES:
            self._table(table.model, self.data["tables"][table.label], clinic_id=clinic.pk)
        return ImportResult(
            clinic=clinic,
            rows={label: len(ids) for label, ids in self.ids.items()},
            users_created=self.created,
            users_reused=self.reused,
            files=len(self.written),
        )

    def _users(self) -> None:
        """Staff are matched by email: an account here with the same address is the
        same person (it keeps its own password); otherwise the account is created
        with the password hash it had. An account the rows name only as who did
        something (not a member of the clinic) is created unable to sign in. No
        flag that grants more (staff, superuser, groups) is carried."""
        for row in self.data["users"]:
            existing = User.objects.with_email(row["email"]).first()
            if existing is not None:
                self.users[row["email"]] = existing.pk
                self.reused += 1
                continue
            user = User(
                email=row["email"],
                first_name=row["first_name"],
                last_name=row["last_name"],
                date_joined=decode(User._meta.get_field("date_joined"), row["date_joined"]),
                is_active=row["member"] and row["is_active"],
                password=row["password"],
            )
            if not row["member"]:
                user.set_unusable_password()
            user.save()
            # Its two-factor devices, as they were (older archives have none).
            for device in row.get("totp", []):
                TOTPDevice.objects.create(user=user, **device)
            for device in row.get("static", []):
                static = StaticDevice.objects.create(
                    user=user, name=device["name"], confirmed=device["confirmed"]
                )
                for token in device["tokens"]:
                    static.token_set.create(token=token)
            self.users[row["email"]] = user.pk
            self.created += 1

    def _table(self, model: type[models.Model], rows: list[dict[str, Any]], clinic_id: int):
        label = model._meta.label
        later: list[tuple[models.Model, models.Field, int]] = []
        objs = []
        for row in rows:
            obj = model()
            later.extend(self._fill(obj, row, clinic_id=clinic_id))
            if model is AuditEntry:
                # An erased patient's id means nothing here and could name a patient
                # created here later: such entries keep no patient id.
                obj.patient_ref = self.ids["clinic.Patient"].get(row["patient_ref"])  # type: ignore[attr-defined]
            objs.append(obj)
        _insert_raw(model, objs)
        for row, obj in zip(rows, objs, strict=True):
            self.ids[label][row["id"]] = obj.pk
            if model is Exercise:
                self.exercises[row["slug"]] = obj.pk
        for obj, f, old in later:
            model._base_manager.filter(pk=obj.pk).update(**{f.attname: self._id(label, old)})
        if model is Exercise:
            for row in rows:
                exercise = Exercise.objects.get(pk=self.ids[label][row["id"]])
                for name in EXERCISE_M2M:
                    if name == "related":
                        targets: list[Any] = [self.exercises[slug] for slug in row[name]]
                    else:
                        targets = list(_TAXA[name]._default_manager.filter(slug__in=row[name]))
                    getattr(exercise, name).set(targets)

    def _fill(
        self, obj: models.Model, row: dict[str, Any], *, clinic_id: int
    ) -> list[tuple[models.Model, models.Field, int]]:
        """Set ``obj``'s fields from ``row``, files last (their names may use the
        ids just set); the references to rows of its own table, to set later."""
        later = []
        for f in fields(type(obj)):
            how, value = kind(f), row.get(f.attname)
            if how == "clinic":
                setattr(obj, f.attname, clinic_id)
            elif how == "value":
                setattr(obj, f.attname, decode(f, value))
            elif how == "file":
                continue
            elif value is None:
                setattr(obj, f.attname, None)
            elif how == "user":
                setattr(obj, f.attname, self.users[value])
            elif how == "exercise":
                setattr(obj, f.attname, self.exercises[value])
            elif how == "category":
                setattr(obj, f.attname, self.categories[value])
            elif how == "questionnaire":
                mine = not (isinstance(value, str) and value.startswith("bundled:"))
                found = self._id(Questionnaire._meta.label, value) if mine else self.bundled[value]
                setattr(obj, f.attname, found)
            elif how == obj._meta.label:
                setattr(obj, f.attname, None)
                later.append((obj, f, value))
            else:
                setattr(obj, f.attname, self._id(how, value))
        for f in fields(type(obj)):
            if isinstance(f, models.FileField) and (name := row.get(f.attname)):
                setattr(obj, f.attname, self._put(f, obj, name))
        return later

    def _id(self, label: str, old: int) -> int:
        try:
            return self.ids[label][old]
        except KeyError:
            raise ClinicMoveError(
                f"The archive's rows refer to {label} {old}, which it does not hold."
            ) from None

    def _put(self, f: models.FileField, obj: models.Model, name: str) -> str:
        """Write a file from the archive through the field's storage, under the name
        the field gives it here (the same base name, new ids); return that name."""
        alias = alias_of(f.storage)
        member = member_name(alias, name)
        expected = self.archive.files.get(member)
        info = self.index.get(member)
        if expected is None or info is None:
            raise ClinicMoveError(f"The archive holds no file {member!r} for its rows.")
        source = self.tar.extractfile(info)
        assert source is not None  # checked when verifying
        with tempfile.TemporaryFile() as tmp:
            if copy_hashing(source, tmp)[0] != expected[0]:
                raise ClinicMoveError(f"{member} has changed since the archive was checked.")
            tmp.seek(0)
            storage = f.storage
            wanted = f.generate_filename(obj, PurePosixPath(name).name)
            saved = storage.save(wanted, File(tmp, name=wanted))
            self.written.append((storage, saved))
        return saved
