"""Writes for outcome measures: the bundled questionnaires, a clinic's imports, the
schedules a program asks by, and the answers. Each write that touches a patient or the
clinic leaves its audit entry (ids and fixed words only)."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clinic.audit import Actor, audit_record
from clinic.models import AuditEntry, Clinic, Patient
from outcomes import definitions, scoring
from outcomes.models import Questionnaire, Response, Schedule

Action = AuditEntry.Action
MEASURES_DIR = Path(__file__).resolve().parent / "measures"
# A paper form may be entered weeks later, but not dated in the future or years back.
OLDEST_PAPER = datetime.timedelta(days=366)


def bundled_definitions() -> list[dict]:
    return [
        definitions.validate(json.loads(path.read_text("utf-8")))
        for path in sorted(MEASURES_DIR.glob("*.json"))
    ]


def _fields(definition: dict) -> dict:
    return {
        "title": definition["title"],
        "short_title": definition["short_title"],
        "definition": definition,
        "licence": definition["licence"],
        "citation": definition["citation"],
    }


@transaction.atomic
def questionnaires_load() -> int:
    """Create or update the bundled questionnaires; returns how many changed. A bundled
    definition's wording may be corrected under the same version; a change in what is
    asked or how it is scored comes as a new version, and the old one is retired."""
    changed = 0
    slugs_versions = set()
    for definition in bundled_definitions():
        slugs_versions.add((definition["slug"], definition["version"]))
        fields = _fields(definition)
        current = Questionnaire.objects.filter(
            clinic=None, slug=definition["slug"], version=definition["version"]
        ).first()
        if current is None:
            Questionnaire.objects.create(
                clinic=None,
                slug=definition["slug"],
                version=definition["version"],
                source=Questionnaire.Source.BUNDLED,
                **fields,
            )
            changed += 1
        elif any(getattr(current, k) != v for k, v in fields.items()) or not current.is_active:
            Questionnaire.objects.filter(pk=current.pk).update(is_active=True, **fields)
            changed += 1
    for old in Questionnaire.objects.filter(clinic=None, is_active=True):
        if (old.slug, old.version) not in slugs_versions:
            # Retired by a new version: programs no longer ask for it (a therapist asks
            # for the new one; its answers start a new baseline).
            Questionnaire.objects.filter(pk=old.pk).update(is_active=False)
            Schedule.objects.filter(questionnaire=old, stopped_at=None).update(
                stopped_at=timezone.now()
            )
            changed += 1
    return changed


def questionnaire_import(
    *, clinic: Clinic, name: str, content: bytes, actor: Actor
) -> Questionnaire:
    """Add a clinic's own questionnaire from a ``.json`` or ``.csv`` file. The whole file
    is checked first; a problem anywhere imports nothing (``DefinitionError`` lists
    them all). The definition stays in this clinic's database, never in the repository;
    a licence note is required, since imported instruments are usually licensed."""
    definition = definitions.read_file(name, content)
    if not definition["licence"]:
        raise definitions.DefinitionError(
            ["licence: say under which licence the clinic uses this questionnaire."]
        )
    with transaction.atomic():
        if Questionnaire.objects.filter(
            clinic=clinic, slug=definition["slug"], version=definition["version"]
        ).exists():
            raise definitions.DefinitionError(
                [
                    f'The clinic already has "{definition["slug"]}" version '
                    f"{definition['version']}: give the file a new version."
                ]
            )
        questionnaire = Questionnaire.objects.create(
            clinic=clinic,
            slug=definition["slug"],
            version=definition["version"],
            source=Questionnaire.Source.IMPORTED,
            imported_by=actor.user,
            **_fields(definition),
        )
        audit_record(
            actor=actor,
            action=Action.SETTINGS,
            clinic=clinic,
            target=f"questionnaire {questionnaire.pk}",
            detail="Questionnaire imported",
        )
    return questionnaire


@transaction.atomic
def questionnaire_set_active(*, questionnaire: Questionnaire, active: bool, actor: Actor) -> None:
    """Retire a clinic's imported questionnaire (or bring it back). Answers stay; a
    retired one is no longer offered or asked for."""
    if questionnaire.clinic_id is None:
        raise ValidationError("The bundled questionnaires stay; they cost nothing unused.")
    Questionnaire.objects.filter(pk=questionnaire.pk).update(is_active=active)
    if not active:
        Schedule.objects.filter(questionnaire=questionnaire, stopped_at=None).update(
            stopped_at=timezone.now()
        )
    audit_record(
        actor=actor,
        action=Action.SETTINGS,
        clinic=questionnaire.clinic,
        target=f"questionnaire {questionnaire.pk}",
        detail="Questionnaire brought back" if active else "Questionnaire retired",
    )


@transaction.atomic
def schedule_add(
    *,
    prescription,
    questionnaire: Questionnaire,
    when: str,
    every_weeks: int | None = None,
    actor: Actor,
) -> Schedule:
    """Ask the patient of ``prescription`` for ``questionnaire``: now, at issue, at the
    review date, or every ``every_weeks`` weeks from issue."""
    if not questionnaire.is_active or questionnaire.clinic_id not in (None, prescription.clinic_id):
        raise ValidationError("That questionnaire is not one this clinic uses.")
    if when not in Schedule.When.values:
        raise ValidationError("Choose when to ask.")
    if when == Schedule.When.EVERY:
        if every_weeks is None or not 1 <= every_weeks <= 52:
            raise ValidationError("Ask every 1 to 52 weeks.")
    else:
        every_weeks = None
    if when == Schedule.When.REVIEW and prescription.review_date is None:
        raise ValidationError("This program has no review date yet: set one first.")
    existing = Schedule.objects.filter(
        prescription=prescription, questionnaire=questionnaire, when=when, stopped_at=None
    ).first()
    if existing is not None:
        if existing.every_weeks != every_weeks:
            Schedule.objects.filter(pk=existing.pk).update(every_weeks=every_weeks)
            existing.every_weeks = every_weeks
            _schedule_audit(
                actor, prescription, f"{questionnaire.pk} now asked for: {existing.describe()}"
            )
        return existing
    schedule = Schedule.objects.create(
        clinic_id=prescription.clinic_id,
        patient_id=prescription.patient_id,
        prescription=prescription,
        questionnaire=questionnaire,
        when=when,
        every_weeks=every_weeks,
        starts_at=timezone.now(),
        created_by=actor.user,
    )
    _schedule_audit(actor, prescription, f"{questionnaire.pk} asked for: {schedule.describe()}")
    return schedule


@transaction.atomic
def schedule_stop(*, schedule: Schedule, actor: Actor) -> None:
    if schedule.stopped_at is not None:
        return
    Schedule.objects.filter(pk=schedule.pk).update(stopped_at=timezone.now())
    _schedule_audit(
        actor, schedule.prescription, f"{schedule.questionnaire_id} no longer asked for"
    )


def _schedule_audit(actor: Actor, prescription, what: str) -> None:
    """The trail of what a program asks for: "Questionnaire <id> <what>"."""
    audit_record(
        actor=actor,
        action=Action.CHANGE,
        patient=prescription.patient,
        target=f"prescription {prescription.pk}",
        detail=f"Questionnaire {what}",
    )


def schedules_carry(*, source_id: int, target) -> int:
    """A new version of a program asks for what the version it replaces asked (called
    by the issue, inside its transaction); what the new version already asks stays."""
    kept = set(
        Schedule.objects.filter(prescription=target, stopped_at=None).values_list(
            "questionnaire_id", "when"
        )
    )
    carried = [
        Schedule(
            clinic_id=schedule.clinic_id,
            patient_id=schedule.patient_id,
            prescription=target,
            questionnaire_id=schedule.questionnaire_id,
            when=schedule.when,
            every_weeks=schedule.every_weeks,
            starts_at=schedule.starts_at,
            created_by_id=schedule.created_by_id,
        )
        for schedule in Schedule.objects.filter(prescription_id=source_id, stopped_at=None)
        if (schedule.questionnaire_id, schedule.when) not in kept
    ]
    Schedule.objects.bulk_create(carried)
    return len(carried)


@transaction.atomic
def response_record(
    *,
    patient: Patient,
    questionnaire: Questionnaire,
    answers: dict,
    source: str,
    actor: Actor,
    prescription=None,
    schedule: Schedule | None = None,
    answered_on: datetime.date | None = None,
) -> Response:
    """Store one set of answers, scored by the questionnaire's rules.

    From the page, ``answered_on`` is empty (now). From paper, it is the date written
    on the form. Bad answers raise ``ValidationError`` with one message per question;
    nothing is stored."""
    if questionnaire.clinic_id not in (None, patient.clinic_id):
        raise ValidationError("That questionnaire is not one this clinic uses.")
    cleaned, problems = scoring.clean_answers(questionnaire.definition, answers)
    if problems:
        raise ValidationError(problems)
    now = timezone.now()
    answered_at = now
    if answered_on is not None:
        today = timezone.localdate(now)
        if answered_on > today or answered_on < today - OLDEST_PAPER:
            raise ValidationError("The date on the form is in the future or over a year ago.")
        if answered_on != today:
            answered_at = timezone.make_aware(
                datetime.datetime.combine(answered_on, datetime.time(12))
            )
    result = scoring.score(questionnaire.definition, cleaned)
    response = Response.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        questionnaire=questionnaire,
        prescription=prescription,
        schedule=schedule,
        answers=cleaned,
        score=result.value,
        source=source,
        entered_by=actor.user,
        answered_at=answered_at,
    )
    audit_record(
        actor=actor,
        action=Action.CREATE,
        patient=patient,
        target=f"questionnaire response {response.pk}",
        detail=(
            "Answered on the patient's page"
            if source == Response.Source.PAGE
            else "Entered from a paper form"
        ),
    )
    return response
