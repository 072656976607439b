"""No change to patient data without an audit entry.

Every URL of the app is classified below: either a case that drives it the way
a browser does, or a reason why it cannot change patient data. Each case runs
between two snapshots of every patient-data table (any column of any row); a
patient whose rows changed must have gained an audit entry in that case, written
by the service that made the change. A new URL fails ``test_every_url_is_classified``
until it is given a case or a reason.
"""

import datetime
import json
import uuid

import pytest
from django.db.models import F
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from clinic.audit import Actor
from clinic.models import AuditEntry, Membership, Patient
from outcomes.models import Response, Schedule
from outcomes.services import schedule_add
from patientpage import reminders
from patientpage.models import FollowUp, ReminderPlan, ReminderSent, SessionExercise, SessionLog
from prescriptions import links, services
from prescriptions.models import (
    Delivery,
    Handout,
    Prescription,
    PrescriptionItem,
    ProgramLink,
    ProgramTemplate,
    TemplateItem,
)
from tests.factories import ExerciseFactory, MembershipFactory, PatientFactory, PrescriptionFactory
from tests.outcomes.staff import asked, bundled_pain
from tests.prescriptions.test_builder import builder_data

# Each patient-data model and how one of its rows names its patient.
PATIENT_DATA = {
    Patient: "pk",
    Prescription: "patient_id",
    PrescriptionItem: "prescription__patient_id",
    Handout: "prescription__patient_id",
    Delivery: "prescription__patient_id",
    ProgramLink: "patient_id",
    SessionLog: "patient_id",
    SessionExercise: "session__patient_id",
    ReminderPlan: "patient_id",
    ReminderSent: "plan__patient_id",
    FollowUp: "patient_id",
    # Outcome measures, staff side
    Schedule: "patient_id",
    Response: "patient_id",
}


def snapshot() -> dict:
    """Every row of every patient-data table: ``{(model, pk): (patient id, values)}``."""
    state = {}
    for model, patient_path in PATIENT_DATA.items():
        columns = [f.attname for f in model._meta.concrete_fields]
        for row in model.objects.values(*columns, owner=_path(patient_path)):
            owner = row.pop("owner")
            state[(model.__name__, row["id"])] = (owner, tuple(sorted(row.items())))
    return state


def _path(patient_path: str):
    return F(patient_path)


def changed_patients(before: dict, after: dict) -> set[int]:
    changed = set()
    for key in before.keys() | after.keys():
        old, new = before.get(key), after.get(key)
        if old != new:
            changed |= {state[0] for state in (old, new) if state is not None}
    return changed


@pytest.fixture
def ctx(db, clinic, alice, patient, issued, draft_two, clinic_admin):
    delivery = Delivery.objects.create(
        prescription=issued,
        recipient=patient.email,
        status=Delivery.Status.FAILED,
        requested_by=alice,
    )
    plan = ReminderPlan.objects.create(
        link=ProgramLink.objects.get(prescription=issued),
        patient=patient,
        email=patient.email,
        weekdays="135",
        time=datetime.time(18),
        time_zone="Australia/Melbourne",
        consent_at=timezone.now(),
        consent_text="I agree.",
    )
    return {
        "reminder_plan": plan,
        "patient": patient,
        "issued": issued,
        "draft": draft_two,
        "delivery": delivery,
        "alice": alice,
        "admin": clinic_admin,
        "unconsented": PatientFactory(clinic=clinic, email_consent=False),
        "follow_up": FollowUp.objects.create(
            clinic=clinic, patient=patient, prescription=issued, reason=FollowUp.Reason.NOTE
        ),
    }


@pytest.fixture
def draft_two(patient, alice, exercises):
    rx = PrescriptionFactory(patient=patient, therapist=alice, title="Next steps")
    for exercise in exercises[:2]:
        services.prescription_add_exercise(prescription=rx, exercise=exercise, actor=Actor(alice))
    return rx


def as_admin(client, ctx):
    client.force_login(ctx["admin"])
    return client


def as_therapist(client, ctx):
    client.force_login(ctx["alice"])
    return client


def patient_form(patient, **changes):
    data = {
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "preferred_name": patient.preferred_name,
        "date_of_birth": patient.date_of_birth.isoformat() if patient.date_of_birth else "",
        "email": patient.email,
        "phone": patient.phone,
        "notes": patient.notes,
    }
    if patient.email_consent:
        data["email_consent"] = "on"
    return {**data, **changes}


def builder(client, ctx, **changes):
    rx = ctx["draft"]
    return as_therapist(client, ctx).post(
        reverse("prescriptions:edit", args=[rx.pk]), builder_data(rx, **changes)
    )


# name -> how a browser changes patient data through that URL (each returns the response).
def undo_template(client, ctx):
    """Apply a template, then undo it: the undo's own change is what is checked."""
    rx = ctx["draft"]
    template = ProgramTemplate.objects.create(clinic=rx.clinic, name="Undo me", slug="undo-me")
    TemplateItem.objects.create(template=template, exercise=ExerciseFactory(), reps=5, order=0)
    builder(client, ctx, apply_template="1", template=str(template.pk))
    return builder(client, ctx, undo_template="1")


CASES = {
    "patients:create": lambda c, x: as_therapist(c, x).post(
        reverse("patients:create"),
        {"first_name": "Robin", "last_name": "Ngata", "date_of_birth": "1970-01-02"},
    ),
    "patients:edit": lambda c, x: as_therapist(c, x).post(
        reverse("patients:edit", args=[x["patient"].pk]),
        patient_form(x["patient"], notes="Prefers mornings."),
    ),
    "patients:consent": lambda c, x: as_therapist(c, x).post(
        reverse("patients:consent", args=[x["unconsented"].pk])
    ),
    "patients:archive": lambda c, x: as_therapist(c, x).post(
        reverse("patients:archive", args=[x["patient"].pk]), {"archived": "1"}
    ),
    "patients:erase": lambda c, x: as_admin(c, x).post(
        reverse("patients:erase", args=[x["patient"].pk]),
        {"confirm_name": x["patient"].full_name},
    ),
    "patients:prescription_create": lambda c, x: as_therapist(c, x).post(
        reverse("patients:prescription_create", args=[x["patient"].pk])
    ),
    "prescriptions:edit": lambda c, x: builder(c, x, title="Knees, week two"),
    "prescriptions:edit#move": lambda c, x: builder(
        c, x, move=f"{x['draft'].items.order_by('order').last().pk}:up"
    ),
    "prescriptions:edit#copy_previous": lambda c, x: builder(c, x, copy_previous="1"),
    "prescriptions:edit#undo_template": lambda c, x: undo_template(c, x),
    "prescriptions:add_from_library": lambda c, x: as_therapist(c, x).post(
        reverse("prescriptions:add_from_library", args=[ExerciseFactory().slug]),
        {"patient": x["patient"].pk},
    ),
    "prescriptions:edit#issue": lambda c, x: builder(c, x, issue="1"),
    "prescriptions:edit#preview": lambda c, x: builder(c, x, preview="", title="Knees, seen"),
    "prescriptions:autosave": lambda c, x: as_therapist(c, x).post(
        reverse("prescriptions:autosave", args=[x["draft"].pk]),
        builder_data(x["draft"], title="Knees, autosaved"),
    ),
    "prescriptions:issue": lambda c, x: as_therapist(c, x).post(
        reverse("prescriptions:issue", args=[x["draft"].pk])
    ),
    "prescriptions:delete_draft": lambda c, x: as_therapist(c, x).post(
        reverse("prescriptions:delete_draft", args=[x["draft"].pk])
    ),
    "prescriptions:new_version": lambda c, x: as_therapist(c, x).post(
        reverse("prescriptions:new_version", args=[x["issued"].pk])
    ),
    "prescriptions:email": lambda c, x: as_therapist(c, x).post(
        reverse("prescriptions:email", args=[x["issued"].pk]),
        {"recipient": x["patient"].email, "request_key": str(uuid.uuid4())},
    ),
    "prescriptions:delivery_retry": lambda c, x: as_therapist(c, x).post(
        reverse("prescriptions:delivery_retry", args=[x["issued"].pk, x["delivery"].pk])
    ),
    "prescriptions:handout_retry": lambda c, x: retry_handout(c, x),
    "patientpage:session": lambda c, x: c.post(
        page_path(x["issued"]) + "session/",
        json.dumps(
            {
                "session": str(uuid.uuid4()),
                "started_at": timezone.now().isoformat(),
                "done": list(x["issued"].items.values_list("pk", flat=True)),
                "finished": True,
                "pain": 3,
            }
        ),
        content_type="application/json",
    ),
    "patientpage:session#form": lambda c, x: c.post(
        page_path(x["issued"]) + "session/",
        {
            "session": str(uuid.uuid4()),
            f"done_{x['issued'].items.first().pk}": "on",
            "pain": "2",
        },
    ),
    "patientpage:reminders": lambda c, x: c.post(
        page_path(x["issued"]) + "reminders/",
        {
            "days": ["1", "4"],
            "time": "07:30",
            "time_zone": "Australia/Melbourne",
            "address": "clinic",
            "consent": "on",
        },
    ),
    "patientpage:reminders#stop": lambda c, x: c.post(
        page_path(x["issued"]) + "reminders/", {"stop": "1"}
    ),
    # What a mail program sends to the one-click unsubscribe link (RFC 8058).
    "patientpage:unsubscribe": lambda c, x: c.post(
        reverse("patientpage:unsubscribe", args=[reminders.unsubscribe_code(x["reminder_plan"])]),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    ),
    "prescriptions:adjust": lambda c, x: as_therapist(c, x).post(
        reverse("prescriptions:adjust", args=[x["issued"].pk]),
        {"item": x["issued"].items.first().pk, "direction": "easier"},
    ),
    "loop:link_off": lambda c, x: as_therapist(c, x).post(
        reverse("loop:link_off", args=[x["issued"].pk])
    ),
    "loop:link_renew": lambda c, x: as_therapist(c, x).post(
        reverse("loop:link_renew", args=[x["issued"].pk])
    ),
    "loop:paper_session": lambda c, x: as_therapist(c, x).post(
        reverse("loop:paper_session", args=[x["issued"].pk]),
        {
            "day": timezone.localdate().isoformat(),
            "done": [x["issued"].items.first().pk],
            "pain": "3",
        },
    ),
    "loop:followups_handled": lambda c, x: as_therapist(c, x).post(
        reverse("loop:followups_handled", args=[x["patient"].pk]),
        {"follow_up": x["follow_up"].pk},
    ),
    # Outcome measures, patient page
    "patientpage:questionnaire": lambda c, x: c.post(
        page_path(x["issued"]) + f"questionnaires/{pain_asked(x).pk}/",
        {"now": "4", "average": "5", "worst": "6"},
    ),
    # Outcome measures, staff side
    "prescriptions:questionnaire_add": lambda c, x: as_therapist(c, x).post(
        reverse("prescriptions:questionnaire_add", args=[x["issued"].pk]),
        {"questionnaire": bundled_pain().pk, "when": "every", "every_weeks": "2"},
    ),
    "prescriptions:questionnaire_stop": lambda c, x: as_therapist(c, x).post(
        reverse(
            "prescriptions:questionnaire_stop",
            args=[x["issued"].pk, asked(x["issued"], x["alice"]).pk],
        )
    ),
    "loop:paper_questionnaire": lambda c, x: as_therapist(c, x).post(
        reverse("loop:paper_questionnaire", args=[x["patient"].pk]),
        {
            "questionnaire": bundled_pain().pk,
            "answered_on": timezone.localdate().isoformat(),
            "q_now": "3",
            "q_average": "4",
            "q_worst": "6",
        },
    ),
}


def retry_handout(client, ctx):
    """'Try again' on a handout whose drawing failed (marked so here: the same row
    change a failing task makes; the button's entry must cover the patient)."""
    Handout.objects.filter(prescription=ctx["issued"]).update(
        status=Handout.Status.FAILED, last_error="The handout could not be drawn."
    )
    return as_therapist(client, ctx).post(
        reverse("prescriptions:handout_retry", args=[ctx["issued"].pk])
    )


def pain_asked(ctx) -> Schedule:
    """The issued program asks for the bundled pain rating now."""
    return schedule_add(
        prescription=ctx["issued"],
        questionnaire=bundled_pain(),
        when="now",
        actor=Actor(ctx["alice"], ip="127.0.0.1"),  # As if asked from the staff side.
    )


def page_path(prescription) -> str:
    """The patient page of an issued prescription, as its handout prints it."""
    token = links.token_of(ProgramLink.objects.get(prescription=prescription))
    return f"/p/{token}/"


# URLs that cannot change patient data, and why.
NO_PATIENT_DATA = {
    "dashboard": "reads",
    "loop:calls": "reads",
    "login": "sign-in",
    "logout": "sign-out",
    "account": "the user's own account",
    "password_change": "the user's own password",
    "password_change_done": "a page",
    "password_reset": "sends a reset link",
    "password_reset_done": "a page",
    "password_reset_confirm": "the user's own password",
    "password_reset_complete": "a page",
    "two_factor_setup": "the user's own two-factor device",
    "two_factor_verify": "sign-in",
    "two_factor_remove": "the user's own two-factor device",
    "two_factor_recovery_codes": "the user's own recovery codes (audited as a staff change)",
    "invitation_accept": "creates a staff account (audited as a staff change by the admin)",
    "clinic_settings": "the clinic's branding (audited as a settings change)",
    "dose_presets": "the clinic's dose presets (audited as a settings change)",
    "staff": "invitations (audited as staff changes)",
    "member_action": "staff roles (audited as staff changes)",
    "invitation_action": "invitations (audited as staff changes)",
    "audit_log": "reads",
    "delivery_log": "reads",
    "patients:list": "reads (the search is posted to keep names out of URLs)",
    "patients:detail": "reads (audited as a view)",
    "patients:export": "reads (audited as an export)",
    "exercises:list": "the library",
    "exercises:create": "the clinic's own exercises: library data, kept in their history",
    "exercises:detail": "the library",
    "exercises:edit": "the clinic's own exercises: library data, kept in their history",
    "exercises:copy": "the clinic's own exercises: library data, kept in their history",
    "exercises:favourite": "the user's own starred exercises: library data, no patient",
    "exercises:media_photo": "the clinic's own photos (audited as a settings change)",
    "exercises:media_video": "the clinic's own video (audited as a settings change)",
    "exercises:media_link": "the clinic's own video link (audited as a settings change)",
    "exercises:media_file": "reads the clinic's own photo or video",
    "exercises:media_remove": "the clinic's own photos and video (audited as a settings change)",
    "prescriptions:detail": "reads (audited as a view)",
    "prescriptions:handout": "reads (audited as a print)",
    "prescriptions:handout_state": "reads whether the handout is drawn (polled by the page)",
    "prescriptions:template_preview": "reads a template's exercises (the builder's view is)",
    "video": "a public redirect to a video",
    "video_signed": "a public redirect to a clinic's video",
    "clinic_media": "a clinic's own video, streamed or redirected to, read only",
    "healthz": "a probe",
    "readyz": "a probe",
    "health_queue": "a probe: counts and ages of the queue",
    "metrics": "Prometheus metrics: counts and timings",
    "media": "public pictures and logos, read only",
    "loop:link_card": "reads (audited as a print: the card with the page's code)",
    "patientpage:page": "reads (audited as the patient's view; stamps when the link was opened)",
    "patientpage:check": "the birth-year check: sets a cookie in the patient's browser",
    "patientpage:manifest": "the page's web-app manifest",
    "patientpage:service_worker": "the page's offline worker script",
    "patientpage:calendar": "reads: the patient's calendar file (audited as the patient's view)",
    # Outcome measures, staff side
    "outcomes:questionnaires": "the clinic's questionnaires, read only",
    "outcomes:questionnaire_import": "a clinic's questionnaire (audited as a settings change)",
    "outcomes:questionnaire_definition": "a questionnaire's definition, read only",
    "outcomes:questionnaire_fhir": "a questionnaire as FHIR, read only",
    "outcomes:questionnaire_active": (
        "retires a clinic's questionnaire, which stops the schedules asking for it "
        "(audited as a settings change of the clinic, not per patient)"
    ),
    "outcomes:report": "counts and means, no patient",
    "outcomes:report_csv": "counts and means, no patient",
    "patients:response": "reads (audited as a view)",
    "loop:questionnaire_blank": "reads (audited as a print: a blank questionnaire)",
}


def url_names(patterns=None, namespace=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # Patient data is not in the admin (tests/test_admin.py).
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from url_names(entry.url_patterns, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}"


def test_every_url_is_classified():
    names = set(url_names())
    cases = {name.partition("#")[0] for name in CASES}
    assert not cases & set(NO_PATIENT_DATA)
    assert names - cases - set(NO_PATIENT_DATA) == set(), "give each new URL a case or a reason"


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_change_to_patient_data_leaves_an_audit_entry(client, ctx, name):
    before = snapshot()
    entries = set(AuditEntry.objects.values_list("pk", flat=True))
    response = CASES[name](client, ctx)
    assert response.status_code < 400, response.status_code
    changed = changed_patients(before, snapshot())
    assert changed, f"{name} should change patient data (the case is wrong)"
    new = AuditEntry.objects.exclude(pk__in=entries)
    audited = set(new.exclude(action=AuditEntry.Action.VIEW).values_list("patient_ref", flat=True))
    assert changed <= audited, f"{name} changed patients {changed - audited} without an entry"
    assert all(entry.ip_address for entry in new), "each entry keeps the address"


def test_the_snapshot_sees_a_change_that_bypasses_the_services(ctx):
    """The check itself can fail: a raw update shows up as a change with no entry."""
    before = snapshot()
    PrescriptionItem.objects.filter(prescription=ctx["draft"]).update(note="changed quietly")
    assert changed_patients(before, snapshot()) == {ctx["patient"].pk}


def test_a_staff_change_and_its_entry_are_one_transaction(clinic, clinic_admin, monkeypatch):
    """If the audit entry cannot be written, the role change is not kept either."""
    from clinic import staff

    member = MembershipFactory(clinic=clinic, role=Membership.Role.THERAPIST)

    def broken(**kwargs):
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(staff, "audit_record", broken)
    with pytest.raises(RuntimeError):
        staff.member_set_role(membership=member, role="admin", actor=Actor(clinic_admin))
    member.refresh_from_db()
    assert member.role == Membership.Role.THERAPIST


def test_erase_through_the_service_removes_files_and_keeps_the_entry(
    ctx, django_capture_on_commit_callbacks
):
    from records.services import patient_erase

    handout = ctx["issued"].handout
    storage = handout.pdf.storage
    assert storage.exists(handout.pdf.name)
    with django_capture_on_commit_callbacks(execute=True):
        patient_erase(patient=ctx["patient"], actor=Actor(ctx["admin"], ip="10.0.0.9"))
    assert not storage.exists(handout.pdf.name)
    entry = AuditEntry.objects.get(action=AuditEntry.Action.ERASE)
    assert (entry.patient_ref, entry.ip_address) == (ctx["patient"].pk, "10.0.0.9")


def test_an_audit_entry_needs_a_patient_or_a_clinic(alice):
    from clinic.audit import audit_record

    with pytest.raises(ValueError):
        audit_record(actor=Actor(alice), action=AuditEntry.Action.CHANGE)
