"""One clinic's rows as plain JSON values, and back.

Each row is a dict of its concrete fields (by ``attname``), encoded as Django's
serializers encode them (``value_to_string`` unless the value is a plain JSON
type) and decoded with ``field.to_python``. References are written so that the
target can resolve them:

- to the clinic: left out (it is the clinic being moved);
- to a user: the email address (users are installation-wide);
- to an exercise: its slug (the clinic's own are moved with their slugs, the
  shared library's are found by slug in the target);
- to a questionnaire: the clinic's own by id (moved with it); a bundled one as
  ``bundled:<slug>:<version>``, found by those in the target;
- to a category (a dose preset's): its slug, found by slug in the target;
- to any other moved row: its id in the source, remapped on import.

Files are written by name; the archive holds their bytes (see ``export``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.models import AuditEntry, Clinic, Invitation, Membership, Patient, User
from exercises.models import Category, ClinicMedia, Exercise, ExerciseImage, ExerciseStep
from outcomes.models import Questionnaire, Response, Schedule
from patientpage.models import FollowUp, ReminderPlan, ReminderSent, SessionExercise, SessionLog
from prescriptions.models import (
    Delivery,
    DosePreset,
    Handout,
    Prescription,
    PrescriptionItem,
    ProgramLink,
    ProgramTemplate,
    TemplateItem,
)

# Maintained by the database (PostgreSQL trigger): never carried.
SKIPPED_FIELDS = {("exercises.Exercise", "search_vector")}
# An exercise's many-to-many fields, carried as slugs.
EXERCISE_M2M = ("regions", "categories", "equipment", "related")
# What a moved user keeps; the rest (staff and superuser flags, groups,
# permissions) never travels: an import grants nothing on the target.
USER_FIELDS = ("email", "first_name", "last_name", "password", "is_active", "date_joined")


@dataclass(frozen=True)
class Table:
    model: type[models.Model]
    rows: Callable[[Clinic], models.QuerySet]

    @property
    def label(self) -> str:
        return self.model._meta.label


# In the order they are imported: every row after those it refers to (a
# prescription's ``supersedes`` is set once all prescriptions are in).
TABLES = (
    Table(Membership, lambda c: Membership.objects.filter(clinic=c)),
    Table(Patient, lambda c: Patient.objects.filter(clinic=c)),
    Table(Invitation, lambda c: Invitation.objects.filter(clinic=c)),
    Table(Exercise, lambda c: Exercise.objects.filter(clinic=c)),
    Table(ExerciseStep, lambda c: ExerciseStep.objects.filter(exercise__clinic=c)),
    Table(ExerciseImage, lambda c: ExerciseImage.objects.filter(exercise__clinic=c)),
    # The clinic's own photos and videos, for its own exercises or shared ones (by
    # slug); each keeps its key, so the links printed on its handouts still open it.
    Table(ClinicMedia, lambda c: ClinicMedia.objects.filter(clinic=c)),
    Table(DosePreset, lambda c: DosePreset.objects.filter(clinic=c)),
    Table(ProgramTemplate, lambda c: ProgramTemplate.objects.filter(clinic=c)),
    Table(TemplateItem, lambda c: TemplateItem.objects.filter(template__clinic=c)),
    Table(Prescription, lambda c: Prescription.objects.filter(clinic=c)),
    Table(PrescriptionItem, lambda c: PrescriptionItem.objects.filter(prescription__clinic=c)),
    # Printed codes keep opening their pages after a move (found by the token's hash);
    # under another SECRET_KEY a program's next version is printed with a new link.
    Table(ProgramLink, lambda c: ProgramLink.objects.filter(clinic=c)),
    # After the links: a handout names the link it prints. One still being drawn moves
    # as it is and is drawn on the target (requeue_deliveries queues it there).
    Table(Handout, lambda c: Handout.objects.filter(prescription__clinic=c)),
    Table(Delivery, lambda c: Delivery.objects.filter(clinic=c)),
    Table(SessionLog, lambda c: SessionLog.objects.filter(clinic=c)),
    Table(SessionExercise, lambda c: SessionExercise.objects.filter(session__clinic=c)),
    Table(ReminderPlan, lambda c: ReminderPlan.objects.filter(patient__clinic=c)),
    Table(ReminderSent, lambda c: ReminderSent.objects.filter(plan__patient__clinic=c)),
    Table(Questionnaire, lambda c: Questionnaire.objects.filter(clinic=c)),
    Table(Schedule, lambda c: Schedule.objects.filter(clinic=c)),
    Table(Response, lambda c: Response.objects.filter(clinic=c)),
    Table(FollowUp, lambda c: FollowUp.objects.filter(clinic=c)),
    Table(AuditEntry, lambda c: AuditEntry.objects.filter(clinic=c)),
)


def fields(model: type[models.Model]) -> list[models.Field]:
    """The fields carried: every concrete one but the id and those the database keeps."""
    label = model._meta.label
    return [
        f
        for f in model._meta.concrete_fields
        if not f.primary_key and (label, f.name) not in SKIPPED_FIELDS
    ]


def kind(field: models.Field) -> str:
    """How a field is carried: "value", "file", "clinic", "user", "exercise",
    "questionnaire", "category" or the label of the moved model it refers to."""
    if isinstance(field, models.FileField):
        return "file"
    if not field.is_relation:
        return "value"
    related = field.related_model
    assert related is not None and not isinstance(related, str)
    if related is Clinic:
        return "clinic"
    if related is User:
        return "user"
    if related is Exercise:
        return "exercise"
    if related is Questionnaire:
        return "questionnaire"
    if related is Category:
        return "category"
    return related._meta.label


def bundled_questionnaires(ids: set[int]) -> dict[int, str]:
    """The bundled questionnaires among ``ids``, as the archive names them."""
    found = Questionnaire.objects.filter(pk__in=ids, clinic__isnull=True)
    return {
        pk: f"bundled:{slug}:{version}"
        for pk, slug, version in found.values_list("pk", "slug", "version")
    }


def encode(
    obj: models.Model,
    *,
    slugs: dict[int, str],
    emails: dict[int, str],
    bundled: dict[int, str] | None = None,
    categories: dict[int, str] | None = None,
) -> dict[str, Any]:
    """``obj`` as JSON values; ``slugs``, ``emails`` and ``bundled`` name the exercises,
    users and bundled questionnaires it may refer to (id -> slug, email, name)."""
    row: dict[str, Any] = {"id": obj.pk}
    for field in fields(type(obj)):
        how = kind(field)
        value = field.value_from_object(obj)
        if how == "clinic":
            continue
        if how == "file":
            row[field.attname] = value.name or ""
        elif how == "user":
            row[field.attname] = None if value is None else emails[value]
        elif how == "exercise":
            row[field.attname] = None if value is None else slugs[value]
        elif how == "questionnaire":
            row[field.attname] = (bundled or {}).get(value, value)
        elif how == "category":
            row[field.attname] = None if value is None else (categories or {})[value]
        elif how != "value" or value is None or isinstance(value, (bool, int, float, str)):
            row[field.attname] = value
        else:
            # Dates and times in full (DjangoJSONEncoder would drop microseconds),
            # decimals and UUIDs as text, JSON as it is.
            row[field.attname] = field.value_to_string(obj)
    return row


def decode(field: models.Field, value: Any) -> Any:
    """A plain field's value back from JSON."""
    return None if value is None else field.to_python(value)


# A member's two-factor devices travel with them: a therapist who chose two-factor
# sign-in keeps it, and an admin of a clinic that requires it can still sign in.
TOTP_FIELDS = ("name", "confirmed", "key", "step", "t0", "digits", "tolerance", "drift", "last_t")


def user_row(user: User, *, member: bool) -> dict[str, Any]:
    row = {name: getattr(user, name) for name in USER_FIELDS}
    row["date_joined"] = user.date_joined.isoformat()
    row["member"] = member
    row["totp"] = (
        [
            {name: getattr(device, name) for name in TOTP_FIELDS}
            for device in TOTPDevice.objects.filter(user=user)
        ]
        if member
        else []
    )
    row["static"] = (
        [
            {
                "name": device.name,
                "confirmed": device.confirmed,
                "tokens": [token.token for token in device.token_set.all()],
            }
            for device in StaticDevice.objects.filter(user=user)
        ]
        if member
        else []
    )
    return row
