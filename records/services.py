"""A patient's rights over their record: a copy of everything held on them, and erasure.

Both are for clinic admins and both leave an audit entry. Erasure keeps the
audit trail (ids and fixed words only, see ``AuditEntry``) and removes
everything else: the record, its prescriptions, handouts (rows and PDF files),
emails, what the patient did on their page (sessions, reminders, follow-ups), and
their questionnaires (the schedules asking for them and the answers).
"""

import io
import json
import logging
import zipfile

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from clinic.audit import Actor, audit_record
from clinic.models import AuditEntry, Patient
from exercises.dose import Dose, plural
from outcomes.models import Response
from patientpage.models import FollowUp, ReminderPlan, SessionLog
from prescriptions.models import Handout, Prescription, ProgramLink
from records.outcome_export import fhir_documents, patient_responses, questionnaire_record

logger = logging.getLogger(__name__)

PATIENT_FIELDS = (
    "id",
    "first_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "email",
    "phone",
    "notes",
    "email_consent",
    "email_consent_at",
    "archived",
    "created_at",
    "updated_at",
)


def _when(value):
    return value.isoformat() if value else None


def _prescription_record(rx: Prescription) -> dict:
    handout = getattr(rx, "handout", None)
    return {
        "id": rx.pk,
        "title": rx.title,
        "status": rx.status,
        "therapist": rx.therapist.email,
        "advice": rx.advice,
        "review_date": _when(rx.review_date),
        "large_print": rx.large_print,
        "log_weeks": rx.log_weeks,
        "replaces_prescription": rx.supersedes_id,
        "created_at": _when(rx.created_at),
        "issued_at": _when(rx.issued_at),
        "exercises": [
            {
                "exercise": item.exercise.name,
                "dose": str(Dose.of(item)),
                **Dose.of(item).as_dict(),
                "note": item.note,
            }
            for item in rx.items.all()
        ],
        "handout": (
            {
                # No file yet while it is drawn (or if drawing failed): see NOT-READY.txt.
                "file": _handout_member(rx) if handout.is_ready else None,
                "status": handout.status,
                "sha256": handout.sha256,
                "size": handout.size,
                "created_at": _when(handout.created_at),
            }
            if handout
            else None
        ),
        "emails": [
            {
                "recipient": delivery.recipient,
                "also_sent_to": delivery.extra_recipient,
                "message": delivery.message,
                "status": delivery.status,
                "attempts": delivery.attempts,
                "last_error": delivery.last_error,
                "requested_at": _when(delivery.created_at),
                "sent_at": _when(delivery.sent_at),
            }
            for delivery in rx.deliveries.all()
        ],
    }


def _session_record(session: SessionLog) -> dict:
    return {
        "id": session.pk,
        "prescription": session.prescription_id,
        "source": session.source,
        "entered_by": session.entered_by.email if session.entered_by else None,
        "started_at": _when(session.started_at),
        "finished_at": _when(session.finished_at),
        "pain": session.pain,
        "note": session.note,
        "exercises": [
            {
                "exercise": row.item.exercise.name,
                "prescription_item": row.item_id,
                "done": row.done,
                "difficulty": row.difficulty,
            }
            for row in session.exercises.all()
        ],
    }


def _patient_page_record(patient: Patient) -> dict:
    """What the patient did on their page and was asked about: sessions, reminders,
    follow-ups, and the links themselves. No token or hash: an export must not open
    the page."""
    sessions = (
        SessionLog.objects.filter(patient=patient)
        .select_related("entered_by")
        .prefetch_related("exercises__item__exercise")
        .order_by("started_at", "pk")
    )
    plans = ReminderPlan.objects.filter(patient=patient).prefetch_related("sent").order_by("pk")
    follow_ups = (
        FollowUp.objects.filter(patient=patient).select_related("handled_by").order_by("pk")
    )
    program_links = ProgramLink.objects.filter(patient=patient).order_by("pk")
    return {
        "program_links": [
            {
                "id": link.pk,
                "prescription": link.prescription_id,
                "created_at": _when(link.created_at),
                "ended_at": _when(link.ended_at),
                "ended_reason": link.ended_reason,
                "last_opened_at": _when(link.last_opened_at),
            }
            for link in program_links
        ],
        "sessions": [_session_record(session) for session in sessions],
        "reminder_plans": [
            {
                "id": plan.pk,
                "program_link": plan.link_id,
                "email": plan.email,
                "weekdays": plan.weekdays,
                "time": plan.time.isoformat(),
                "time_zone": plan.time_zone,
                "nudge": plan.nudge,
                "consent_at": _when(plan.consent_at),
                "consent_text": plan.consent_text,
                "stopped_at": _when(plan.stopped_at),
                "created_at": _when(plan.created_at),
                "sent": [
                    {
                        "kind": sent.kind,
                        "due_at": _when(sent.due_at),
                        "status": sent.status,
                        "sent_at": _when(sent.sent_at),
                    }
                    for sent in plan.sent.all()
                ],
            }
            for plan in plans
        ],
        "follow_ups": [
            {
                "id": follow_up.pk,
                "reason": follow_up.reason,
                "reason_text": follow_up.get_reason_display(),
                "prescription": follow_up.prescription_id,
                "session": follow_up.session_id,
                "created_at": _when(follow_up.created_at),
                "handled_at": _when(follow_up.handled_at),
                "handled_by": follow_up.handled_by.email if follow_up.handled_by else None,
            }
            for follow_up in follow_ups
        ],
    }


def _handout_member(rx: Prescription) -> str:
    return f"handouts/prescription-{rx.pk}.pdf"


def patient_export_archive(*, patient: Patient, actor: Actor) -> bytes:
    """A zip of everything held on ``patient``: ``patient.json`` and the issued handouts
    exactly as stored. Built in memory: one patient's handouts are a few megabytes.
    The export is recorded before it is built, so the archive's access log shows it."""
    audit_record(actor=actor, action=AuditEntry.Action.EXPORT, patient=patient)
    prescriptions = (
        Prescription.objects.filter(patient=patient)
        .select_related("therapist", "handout")
        .prefetch_related("items__exercise", "deliveries")
        .order_by("created_at", "pk")
    )
    audit = AuditEntry.objects.filter(clinic_id=patient.clinic_id, patient_ref=patient.pk)
    responses = patient_responses(patient)
    record = {
        "format": "openhep-patient-export/1",
        "exported_at": timezone.now().isoformat(),
        "clinic": patient.clinic.name,
        "patient": {
            name: (_when(value) if hasattr(value := getattr(patient, name), "isoformat") else value)
            for name in PATIENT_FIELDS
        },
        "email_consent_recorded_by": (
            patient.email_consent_by.email if patient.email_consent_by else None
        ),
        "prescriptions": [_prescription_record(rx) for rx in prescriptions],
        **_patient_page_record(patient),
        **questionnaire_record(patient, responses),
        "access_log": [
            {
                "at": _when(entry.at),
                "by": entry.actor_email,
                "action": entry.action,
                "what": entry.target,
                "detail": entry.detail,
            }
            for entry in audit.order_by("at", "pk")
        ],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("patient.json", json.dumps(record, indent=2, ensure_ascii=False))
        for member, resource in fhir_documents(responses):
            archive.writestr(member, json.dumps(resource, indent=2, ensure_ascii=False))
        missing, preparing = [], []
        for rx in prescriptions:
            handout = getattr(rx, "handout", None)
            if handout is None:
                continue
            if not handout.is_ready:
                # Issued a moment ago and still being drawn, or its drawing failed.
                preparing.append(_handout_member(rx))
                continue
            try:
                with handout.pdf.open("rb") as pdf:
                    archive.writestr(_handout_member(rx), pdf.read())
            except FileNotFoundError:
                # The rest of the record is still the patient's to have; say what is missing.
                logger.error("Export: handout file of prescription %s is missing", rx.pk)
                missing.append(_handout_member(rx))
        if missing:
            archive.writestr(
                "MISSING.txt",
                "These handout files were not found in storage when this export was made "
                "(restore them from a back-up):\n" + "\n".join(missing) + "\n",
            )
        if preparing:
            archive.writestr(
                "NOT-READY.txt",
                "These handouts were still being prepared when this export was made (the "
                "program is in patient.json; export again in a minute for the PDF):\n"
                + "\n".join(preparing)
                + "\n",
            )
    return buffer.getvalue()


@transaction.atomic
def patient_erase(*, patient: Patient, actor: Actor) -> dict:
    """Erase ``patient`` and everything held on them. The audit trail stays, with the
    patient's id only. Handout files are deleted once the database change is committed."""
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    files = list(
        Handout.objects.filter(prescription__patient=patient).values_list("pdf", flat=True)
    )
    count = Prescription.objects.filter(patient=patient).count()
    sessions = SessionLog.objects.filter(patient=patient).count()
    responses = Response.objects.filter(patient=patient).count()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.ERASE,
        patient=patient,
        detail=(
            f"{plural(count, 'prescription')}, {plural(len(files), 'handout PDF')}, "
            f"{plural(sessions, 'logged session')} and "
            f"{plural(responses, 'questionnaire response')} erased"
        ),
    )
    # The patient's rows cascade with them: prescriptions and their items, handouts,
    # emails, program links, sessions (with their exercises), reminder plans (with the
    # reminders sent), follow-ups, questionnaire schedules and responses
    # (tests/records/test_privacy.py and tests/outcomes/test_staff_records.py check them).
    patient.delete()
    transaction.on_commit(lambda: _delete_files(files))
    return {
        "prescriptions": count,
        "handouts": len(files),
        "sessions": sessions,
        "responses": responses,
    }


def _delete_files(names: list[str]) -> None:
    for name in names:
        if name:
            default_storage.delete(name)
