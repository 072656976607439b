"""Moving one clinic (clinic_export, clinic_import), on whichever database the suite
runs against: every row and file comes back under new ids, and nothing of the
other clinics is touched."""

import datetime
import hashlib
import io
import tarfile
import uuid
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import models
from django.utils import timezone

from clinic.audit import Actor, audit_record
from clinic.models import AuditEntry, Clinic, Invitation, Membership, Patient, User
from exercises.models import (
    Category,
    ClinicMedia,
    Equipment,
    Exercise,
    ExerciseImage,
    ExerciseStep,
    Region,
    video_signature,
)
from openhep.clinic_move import clinic_archive_verify
from outcomes.models import Questionnaire, Response, Schedule
from outcomes.services import (
    questionnaire_import,
    questionnaires_load,
    response_record,
    schedule_add,
)
from patientpage.models import FollowUp, ReminderPlan, ReminderSent, SessionExercise, SessionLog
from patientpage.services import SessionReport, questionnaire_enter_from_paper, session_record
from prescriptions import handouts, services
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
from records.services import patient_erase
from tests.exercises.video_files import mp4
from tests.factories import ExerciseFactory, PatientFactory, PrescriptionFactory
from tests.openhep.test_backup import PNG, everything, media
from tests.outcomes.test_definitions import NECK_CSV

# The moved clinic's rows, table by table, in the order they are compared.
SCOPES = {
    Membership: "clinic",
    Patient: "clinic",
    Invitation: "clinic",
    Exercise: "clinic",
    ExerciseStep: "exercise__clinic",
    ExerciseImage: "exercise__clinic",
    ClinicMedia: "clinic",
    DosePreset: "clinic",
    ProgramTemplate: "clinic",
    TemplateItem: "template__clinic",
    Prescription: "clinic",
    PrescriptionItem: "prescription__clinic",
    ProgramLink: "clinic",  # Before the handouts, which name the link they print.
    Handout: "prescription__clinic",
    Delivery: "prescription__clinic",
    SessionLog: "clinic",
    SessionExercise: "session__clinic",
    ReminderPlan: "patient__clinic",
    ReminderSent: "plan__patient__clinic",
    Questionnaire: "clinic",
    Schedule: "clinic",
    Response: "clinic",
    FollowUp: "clinic",
    AuditEntry: "clinic",
}
IMPORTED = "Imported from another installation"


@pytest.fixture
def moved(clinic, other_clinic, alice, bob, charlie, patient, issued, exercises):
    """``clinic`` with a row of every kind and every kind of file; ``other_clinic``
    with records and files of its own."""
    clinic.logo.save("logo.png", ContentFile(PNG))
    hip = Region.objects.create(slug="hip", name="Hip")
    mobility = Category.objects.create(slug="mobility", name="Mobility")
    DosePreset.objects.create(clinic=clinic, category=mobility, reps=12, sets=2)
    DosePreset.objects.create(clinic=other_clinic, category=mobility, reps=5)
    band = Equipment.objects.create(slug="band", name="Band")
    own = ExerciseFactory(name="Our wall slide", clinic=clinic, updated_by=alice)
    own.regions.add(hip)
    own.equipment.add(band)
    own.related.add(exercises[0])
    ExerciseImage.objects.create(
        exercise=own, image=ContentFile(PNG, name="slide.png"), alt_text="A slide", is_main=True
    )
    # The clinic's own media: a video file for its own exercise, a link and a photo for
    # shared ones; the other clinic's video for a shared one stays where it is.
    ClinicMedia.objects.create(
        clinic=clinic,
        exercise=own,
        kind=ClinicMedia.Kind.VIDEO,
        file=ContentFile(mp4(20), name="slide.mp4"),
        content_type="video/mp4",
        size=len(mp4(20)),
        seconds=20,
        caption="Our slide",
        created_by=alice,
    )
    ClinicMedia.objects.create(
        clinic=clinic,
        exercise=exercises[0],
        kind=ClinicMedia.Kind.LINK,
        url="https://youtu.be/our-psoas",
        created_by=bob,
    )
    ClinicMedia.objects.create(
        clinic=clinic,
        exercise=exercises[1],
        kind=ClinicMedia.Kind.PHOTO,
        file=ContentFile(PNG, name="quads.png"),
        content_type="image/png",
        caption="Knee bent",
        created_by=alice,
    )
    ClinicMedia.objects.create(
        clinic=other_clinic,
        exercise=exercises[0],
        kind=ClinicMedia.Kind.VIDEO,
        file=ContentFile(mp4(9), name="theirs.mp4"),
        content_type="video/mp4",
        seconds=9,
        created_by=charlie,
    )
    template = ProgramTemplate.objects.create(
        clinic=clinic, name="Knee start", slug="knee-start", created_by=bob
    )
    TemplateItem.objects.create(template=template, exercise=own, order=0, reps=10)
    TemplateItem.objects.create(template=template, exercise=exercises[1], order=1, reps=5)
    Patient.objects.filter(pk=patient.pk).update(
        email_consent_by=alice, email_consent_at=timezone.now()
    )
    Delivery.objects.create(
        prescription=issued,
        requested_by=alice,
        recipient=patient.email,
        request_key=uuid.uuid4(),
        status=Delivery.Status.SENT,
        sent_at=timezone.now(),
    )
    Invitation.objects.create(
        clinic=clinic,
        email=bob.email,
        token_hash=Invitation.hash_token("moved-token"),
        invited_by=alice,
        accepted_by=bob,
        accepted_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=7),
    )
    # The patient's page: a session with a tick, a reminder plan that sent one, a follow-up.
    link = ProgramLink.objects.get(prescription=issued)
    session = session_record(
        link=link,
        report=SessionReport(
            client_ref=uuid.uuid4(),
            started_at=timezone.now(),
            done={issued.items.first().pk},
            difficulty={issued.items.first().pk: "hard"},
            finished=True,
            pain=4,
            note="Tight after",
        ),
        actor=Actor(None, name="patient (own page)"),
    )
    assert session.follow_ups.exists()
    plan = ReminderPlan.objects.create(
        link=link,
        patient=patient,
        email=patient.email,
        weekdays="135",
        time=datetime.time(7, 30),
        time_zone="Australia/Melbourne",
        consent_at=timezone.now(),
        consent_text="Email me reminders.",
    )
    ReminderSent.objects.create(plan=plan, kind="reminder", due_at=timezone.now())
    # Outcome measures: the clinic's own questionnaire and a bundled one, each asked
    # for and answered; a worse score opened a follow-up that points at its answer.
    questionnaires_load()
    pain = Questionnaire.objects.get(clinic=None, slug="pain-rating")
    neck = questionnaire_import(
        clinic=clinic, name="neck.csv", content=NECK_CSV.encode(), actor=Actor(alice)
    )
    schedule_add(prescription=issued, questionnaire=pain, when="issue", actor=Actor(alice))
    schedule = schedule_add(prescription=issued, questionnaire=neck, when="now", actor=Actor(alice))
    response_record(
        patient=patient,
        questionnaire=neck,
        answers={"pain": 2, "reading": 1, "driving": 0},
        source="page",
        actor=Actor(None, name="patient (own page)"),
        prescription=issued,
        schedule=schedule,
    )
    for now, day in ((2, 3), (8, 0)):
        questionnaire_enter_from_paper(
            patient=patient,
            questionnaire=pain,
            answers={"now": now, "average": now},
            answered_on=timezone.localdate() - timedelta(days=day),
            actor=Actor(bob),
            prescription=issued,
        )
    assert FollowUp.objects.filter(reason="worse", response__isnull=False).exists()
    revision = services.prescription_new_version(prescription=issued, actor=Actor(bob))
    services.prescription_add_exercise(prescription=revision, exercise=own, actor=Actor(bob))
    # Accounts the records name that are not the clinic's staff: one also here
    # (another clinic's), one only in the source.
    former = User.objects.create_user("former@clinic.example", "pw-former-1")
    PatientFactory(clinic=clinic, created_by=former)
    audit_record(actor=Actor(charlie), action=AuditEntry.Action.VIEW, patient=patient)
    gone = PatientFactory(clinic=clinic, created_by=alice)
    audit_record(actor=Actor(alice), action=AuditEntry.Action.VIEW, patient=gone)
    patient_erase(patient=gone, actor=Actor(alice))
    # The other clinic's own records and handout file.
    theirs = PatientFactory(clinic=other_clinic, created_by=charlie)
    rx = PrescriptionFactory(patient=theirs, therapist=charlie)
    services.prescription_add_exercise(prescription=rx, exercise=exercises[2], actor=Actor(charlie))
    services.prescription_issue(prescription=rx, actor=Actor(charlie))
    clinic.refresh_from_db()
    return clinic


def file_digest(file) -> str | None:
    if not file:
        return None
    with file.storage.open(file.name, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def snapshot(clinic: Clinic) -> dict:
    """The clinic's rows, field by field, with ids replaced by each row's place in
    its table, users by email, exercises by slug and files by their content's SHA-256."""
    rows: dict[str, list] = {}
    places: dict[type, dict[int, int]] = {}
    patients = set(Patient.objects.filter(clinic=clinic).values_list("pk", flat=True))
    for model, scope in SCOPES.items():
        objects = list(model._base_manager.filter(**{scope: clinic}).order_by("pk"))
        places[model] = {obj.pk: place for place, obj in enumerate(objects)}
        table = []
        for obj in objects:
            row: dict = {}
            for field in model._meta.concrete_fields:
                value = field.value_from_object(obj)
                if field.primary_key or field.name == "search_vector":
                    continue
                if isinstance(field, models.FileField):
                    row[field.name] = file_digest(value)
                elif field.related_model is Clinic:
                    row[field.name] = value == clinic.pk
                elif field.related_model is User:
                    row[field.name] = value and User.objects.get(pk=value).email
                elif field.related_model is Exercise:
                    row[field.name] = value and Exercise.objects.get(pk=value).slug
                elif field.related_model is Category:
                    row[field.name] = value and Category.objects.get(pk=value).slug
                elif field.related_model is Questionnaire and value not in places[Questionnaire]:
                    row[field.name] = Questionnaire.objects.get(pk=value).slug  # bundled
                elif field.is_relation:
                    row[field.name] = value and places[field.related_model][value]
                else:
                    row[field.name] = value
            if model is AuditEntry:
                ref = obj.patient_ref
                row["patient_ref"] = places[Patient][ref] if ref in patients else ref and "erased"
            if model is Exercise:
                for name in ("regions", "categories", "equipment", "related"):
                    row[name] = sorted(getattr(obj, name).values_list("slug", flat=True))
            table.append(row)
        rows[model._meta.label] = table
    clinic_row = {
        f.name: f.value_from_object(clinic) for f in Clinic._meta.concrete_fields if f.name != "id"
    }
    clinic_row["logo"] = file_digest(clinic.logo)
    rows["clinic.Clinic"] = [clinic_row]
    staff = User.objects.filter(membership__clinic=clinic).order_by("email")
    rows["staff"] = list(
        staff.values("email", "first_name", "last_name", "password", "is_active", "date_joined")
    )
    return rows


def export(clinic: Clinic, tmp_path) -> "tuple":
    path = tmp_path / "moves" / f"{clinic.slug}.tar"
    out = io.StringIO()
    call_command("clinic_export", clinic=clinic.slug, output=path, stdout=out)
    return path, out.getvalue()


def remove(clinic: Clinic) -> None:
    """What another installation lacks: the clinic, its files and its staff accounts."""
    names = [
        (f.storage, f.name)
        for f in (
            clinic.logo,
            *(i.image for i in ExerciseImage.objects.filter(exercise__clinic=clinic)),
            *(m.file for m in ClinicMedia.objects.filter(clinic=clinic)),
            *(h.pdf for h in Handout.objects.filter(prescription__clinic=clinic)),
        )
    ]
    # Bob's account stays here, without a clinic: the import finds it by email.
    staff = list(User.objects.filter(membership__clinic=clinic).exclude(email__startswith="bob@"))
    staff += list(User.objects.filter(email="former@clinic.example"))
    PrescriptionItem.objects.filter(prescription__clinic=clinic).delete()
    TemplateItem.objects.filter(template__clinic=clinic).delete()
    clinic.delete()
    for user in staff:
        user.delete()
    for storage, name in names:
        if name:  # A handout still being drawn has no file yet.
            storage.delete(name)


def test_a_clinic_moves_with_every_row_and_file_under_new_ids(moved, tmp_path):
    path, out = export(moved, tmp_path)
    assert "Wrote" in out
    assert path.stat().st_mode & 0o777 == 0o600
    before = snapshot(moved)
    assert before["clinic.AuditEntry"][-1]["action"] == AuditEntry.Action.EXPORT
    # Its own exercises take with them the signature of their printed video links.
    for row, exercise in zip(
        before["exercises.Exercise"],
        Exercise.objects.filter(clinic=moved).order_by("pk"),
        strict=True,
    ):
        row["moved_video_signatures"] = [video_signature(exercise)]
    assert "erased" in [row["patient_ref"] for row in before["clinic.AuditEntry"]]
    old_ids = {
        model: set(model._base_manager.filter(**{scope: moved}).values_list("pk", flat=True))
        for model, scope in SCOPES.items()
    }
    remove(moved)
    # Rows made here since, so that ids here run on from others.
    filler = Clinic.objects.create(name="Filler", slug="filler")
    for _ in range(3):
        PatientFactory(clinic=filler)
    here, files_here = everything(), media()

    out = io.StringIO()
    call_command("clinic_import", str(path), stdout=out)
    assert "Imported clinic Northside Myotherapy" in out.getvalue()

    # Nothing that was here changed: every row as it was, every file as it was.
    after = everything()
    for label, rows in here.items():
        pk = apps.get_model(label)._meta.pk.attname
        now = {row[pk]: row for row in after[label]}
        assert [now.get(row[pk]) for row in rows] == rows, label
    assert {name: data for name, data in media().items() if name in files_here} == files_here

    clinic = Clinic.objects.get(slug=moved.slug)
    assert clinic.pk != moved.pk
    imported = AuditEntry.objects.get(clinic=clinic, detail=IMPORTED)
    assert imported.actor_email == "manage.py clinic_import"
    imported.delete()
    moved_back = snapshot(clinic)
    # Entries about an erased patient keep no id (it would mean nothing here).
    for row in before["clinic.AuditEntry"]:
        if row["patient_ref"] == "erased":
            row["patient_ref"] = None
    assert moved_back == before
    for model, scope in SCOPES.items():
        new = set(model._base_manager.filter(**{scope: clinic}).values_list("pk", flat=True))
        assert new and not new & old_ids[model], model
    # The handout: the same bytes as issued, its checksum as recorded.
    handout = Handout.objects.get(prescription__clinic=clinic)
    assert file_digest(handout.pdf) == handout.sha256
    assert handout.pdf.name.startswith(f"handouts/{clinic.pk}/{handout.prescription_id}/")
    # Staff sign in with their own passwords; no account gains a privilege.
    alice = User.objects.get(email="alice@clinic.example")
    assert alice.check_password("correct-horse-battery")
    assert not alice.is_staff and not alice.is_superuser
    assert (
        "staff accounts: 2 created, 2 already here" in out.getvalue()
    )  # alice, former; bob, charlie
    # Named by the records only: made here so they still say who, unable to sign in.
    former = User.objects.get(email="former@clinic.example")
    assert not former.is_active and not former.has_usable_password()
    assert not hasattr(former, "membership")
    assert (
        User.objects.get(email="charlie@other.example").membership.clinic.slug == "southbank-physio"
    )


def test_a_failed_import_leaves_no_row_and_no_file(moved, tmp_path, monkeypatch):
    path, _ = export(moved, tmp_path)
    remove(moved)
    here, files_here = everything(), media()

    def fail(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("openhep.clinic_move.load.audit_record", fail)
    with pytest.raises(RuntimeError):
        call_command("clinic_import", str(path))
    assert everything() == here
    assert media() == files_here


def test_a_clinic_whose_slug_is_taken_is_refused_with_nothing_written(moved, tmp_path):
    path, _ = export(moved, tmp_path)
    here, files_here = everything(), media()
    with pytest.raises(CommandError) as refused:
        call_command("clinic_import", str(path))
    message = str(refused.value)
    assert "'northside-myotherapy' is already here" in message
    assert "exercise slugs already used here: our-wall-slide" in message
    assert "staff already members of a clinic here: alice@clinic.example" in message
    assert "Nothing was imported" in message
    assert everything() == here
    assert media() == files_here


def test_a_missing_shared_exercise_is_named(moved, tmp_path, exercises):
    path, _ = export(moved, tmp_path)
    remove(moved)
    Exercise.objects.filter(pk=exercises[1].pk).update(slug="renamed-here")
    here = everything()
    with pytest.raises(CommandError, match="not in this library: standing-quadriceps-stretch"):
        call_command("clinic_import", str(path))
    assert everything() == here


def test_a_missing_bundled_questionnaire_is_named(moved, tmp_path):
    path, _ = export(moved, tmp_path)
    remove(moved)
    Questionnaire.objects.filter(clinic=None, slug="pain-rating").update(version="2")
    here = everything()
    with pytest.raises(CommandError, match=r"run load_library first\): pain-rating:1"):
        call_command("clinic_import", str(path))
    assert everything() == here


def damage(path, member_prefix: str) -> None:
    with tarfile.open(path) as tar:
        member = next(m for m in tar if m.name.startswith(member_prefix))
    with open(path, "r+b") as f:
        f.seek(member.offset_data)
        byte = f.read(1)
        f.seek(member.offset_data)
        f.write(bytes([byte[0] ^ 0xFF]))


@pytest.mark.parametrize("cut", [None, "media/default/handouts/", "clinic.json.gz"])
def test_a_damaged_archive_is_refused_with_nothing_written(moved, tmp_path, cut):
    path, _ = export(moved, tmp_path)
    remove(moved)
    if cut is None:
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        damage(path, cut)
    here, files_here = everything(), media()
    with pytest.raises(CommandError, match="damaged|cut short|not a readable"):
        call_command("clinic_import", str(path))
    assert everything() == here
    assert media() == files_here


def test_export_refuses_an_existing_file_and_a_missing_clinic(moved, tmp_path):
    path, _ = export(moved, tmp_path)
    with pytest.raises(CommandError, match="already exists"):
        export(moved, tmp_path)
    with pytest.raises(CommandError, match="No clinic"):
        call_command("clinic_export", clinic="nowhere", output=path.with_name("x.tar"))


def test_models_are_all_accounted_for():
    """A new model in the apps a clinic's data lives in must be moved, or skipped on purpose."""
    # Favourites: a user's own stars, not the clinic's records (and an account the import
    # finds by email may have starred the same exercises here already): not moved.
    skipped = {"clinic.User", "clinic.Clinic", "clinic.WorkerHeartbeat", "exercises.Favourite"}
    ours = {
        m._meta.label
        for m in apps.get_models()
        if m._meta.app_label in ("clinic", "exercises", "prescriptions", "patientpage", "outcomes")
        and not m._meta.label.split(".")[1].startswith("Historical")
        and m not in (Region, Category, Equipment)
    }
    assert ours - skipped == {m._meta.label for m in SCOPES}


@pytest.mark.django_db(transaction=True)
def test_export_outside_a_transaction_reads_one_snapshot(clinic, alice, patient, tmp_path):
    """As the command runs it: its own transaction (on PostgreSQL, repeatable read)."""
    path, _ = export(clinic, tmp_path)
    checked = clinic_archive_verify(path=path)
    assert checked.data["clinic"]["slug"] == clinic.slug
    assert [row["email"] for row in checked.data["users"]] == ["alice@clinic.example"]
    assert not checked.files


def test_two_factor_devices_move_with_their_member(moved, tmp_path, alice):
    """A therapist who chose two-factor sign-in keeps it in the new installation: the
    authenticator's key and the unused recovery codes travel with the account."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    totp = TOTPDevice.objects.create(user=alice, name="Phone", confirmed=True, drift=1, last_t=7)
    codes = StaticDevice.objects.create(user=alice, name="Recovery codes", confirmed=True)
    codes.token_set.create(token="abcd1234")
    codes.token_set.create(token="efgh5678")
    path, _ = export(moved, tmp_path)
    remove(moved)
    assert not TOTPDevice.objects.exists() and not StaticDevice.objects.exists()

    call_command("clinic_import", str(path), stdout=io.StringIO())

    moved_alice = User.objects.get(email=alice.email)
    device = TOTPDevice.objects.get(user=moved_alice)
    assert (device.key, device.name, device.confirmed, device.drift, device.last_t) == (
        totp.key,
        "Phone",
        True,
        1,
        7,
    )
    static = StaticDevice.objects.get(user=moved_alice)
    assert sorted(static.token_set.values_list("token", flat=True)) == ["abcd1234", "efgh5678"]


def test_check_names_every_refusal_and_writes_nothing(moved, tmp_path):
    path, _ = export(moved, tmp_path)
    here, files_here = everything(), media()
    out = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("clinic_import", str(path), check=True, stdout=out)
    message = str(refused.value)
    assert "'northside-myotherapy' is already here" in message
    assert "exercise slugs already used here: our-wall-slide" in message
    assert "staff already members of a clinic here: alice@clinic.example" in message
    assert "Nothing was written" in message
    assert "  clinic.Membership: 2\n" in out.getvalue()
    assert everything() == here
    assert media() == files_here


def test_check_reports_what_the_import_would_create_and_writes_nothing(moved, tmp_path):
    path, _ = export(moved, tmp_path)
    counts = {
        model._meta.label: model._base_manager.filter(**{scope: moved}).count()
        for model, scope in SCOPES.items()
    }
    remove(moved)
    here, files_here = everything(), media()
    out = io.StringIO()
    call_command("clinic_import", str(path), check=True, stdout=out)
    report = out.getvalue()
    assert "The import would go ahead. Nothing was written." in report
    for label, count in counts.items():
        assert f"  {label}: {count}\n" in report
    assert "accounts: 2 created, 2 already here" in report
    assert "files: 5 (" in report
    assert everything() == here
    assert media() == files_here
    # And the import itself creates what the check said.
    call_command("clinic_import", str(path), stdout=io.StringIO())
    clinic = Clinic.objects.get(slug=moved.slug)
    for model, scope in SCOPES.items():
        extra = 1 if model is AuditEntry else 0  # "Imported from another installation"
        assert (
            model._base_manager.filter(**{scope: clinic}).count()
            == counts[model._meta.label] + extra
        )


def test_check_refuses_a_damaged_archive_and_writes_nothing(moved, tmp_path):
    path, _ = export(moved, tmp_path)
    remove(moved)
    damage(path, "media/default/handouts/")
    here, files_here = everything(), media()
    with pytest.raises(CommandError, match="Checksum mismatch.*Nothing was written"):
        call_command("clinic_import", str(path), check=True, stdout=io.StringIO())
    assert everything() == here
    assert media() == files_here


def test_a_video_link_printed_before_the_move_opens_after_it(moved, tmp_path, settings, client):
    """A handout printed on the source keeps its video links working on the target,
    though the target's SECRET_KEY (so its own signature) differs; a link made up
    for the exercise still gets nothing."""
    from prescriptions.selectors import video_link

    settings.SITE_URL = "https://hep.northside.example"
    own = Exercise.objects.get(clinic=moved)
    Exercise.objects.filter(pk=own.pk).update(
        video_url="https://youtu.be/our-slide", status=Exercise.Status.PUBLISHED
    )
    own.refresh_from_db()
    printed = video_link(own).removeprefix(settings.SITE_URL)
    assert printed == f"/v/{own.slug}/{video_signature(own)}"
    path, _ = export(moved, tmp_path)
    remove(moved)
    settings.SECRET_KEY = "another-installation-" + "k" * 40

    call_command("clinic_import", str(path), stdout=io.StringIO())

    moved_own = Exercise.objects.get(slug=own.slug)
    assert video_signature(moved_own) != printed.rsplit("/", 1)[1]  # not just the same key
    response = client.get(printed)
    assert response.status_code == 302 and response.url == "https://youtu.be/our-slide"
    # Printed here from now on: this installation's own signature.
    response = client.get(video_link(moved_own).removeprefix(settings.SITE_URL))
    assert response.status_code == 302
    assert client.get(f"/v/{own.slug}/AAAAAAAA").status_code == 404
    assert client.get(f"/v/{own.slug}").status_code == 404
    # Moved on again, it takes both: the links printed there and here.
    again = tmp_path / "again.tar"
    call_command("clinic_export", clinic=moved.slug, output=again, stdout=io.StringIO())
    [row] = clinic_archive_verify(path=again).data["tables"]["exercises.Exercise"]
    assert row["moved_video_signatures"] == [
        printed.rsplit("/", 1)[1],
        video_signature(moved_own),
    ]


def test_a_copy_of_a_moved_exercise_does_not_open_the_originals_links(clinic, alice):
    from exercises.services import exercise_copy_to_clinic

    own = ExerciseFactory(name="Our slide", clinic=clinic, moved_video_signatures=["abcdefgh"])
    copy = exercise_copy_to_clinic(exercise=own, clinic=clinic, by=alice)
    copy.refresh_from_db()
    assert copy.moved_video_signatures == []


def test_a_handout_still_being_drawn_moves_and_is_drawn_on_the_target(
    clinic, patient, draft, alice, db_tasks, tmp_path
):
    """It moves as it is (no file yet), still naming the link it prints; the target's
    requeue queues it and it is drawn there with that link's page address."""
    from prescriptions import links, tasks

    services.prescription_issue(prescription=draft, actor=Actor(alice))
    token = links.token_of(ProgramLink.objects.get(prescription=draft))
    path, out = export(clinic, tmp_path)
    remove(clinic)
    call_command("clinic_import", str(path), stdout=io.StringIO())

    handout = Handout.objects.get(prescription__clinic__slug=clinic.slug)
    assert handout.status == Handout.Status.PREPARING and not handout.pdf
    assert handout.program_link == ProgramLink.objects.get(token_hash=links.hash_token(token))
    assert handout.program_link.prescription == handout.prescription
    Handout.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=5))
    assert services.handouts_requeue() == 1
    assert tasks.render_handout.call(handout.pk) == Handout.Status.READY
    handout.refresh_from_db()
    assert handout.pdf.read() == handouts.render_pdf(
        handout.snapshot, draft=False, program_url=links.page_url(token)
    )


def test_clinic_export_warns_of_handouts_still_being_drawn(
    clinic, patient, draft, alice, db_tasks, tmp_path
):
    services.prescription_issue(prescription=draft, actor=Actor(alice))
    path = tmp_path / "moves" / "clinic.tar"
    err = io.StringIO()
    call_command("clinic_export", clinic=clinic.slug, output=path, stderr=err, stdout=io.StringIO())
    assert "1 issued handouts were still being prepared" in err.getvalue()


def test_a_clinic_video_link_printed_before_the_move_opens_after_it(moved, tmp_path, client):
    """The key of a clinic's own video moves with it: the QR codes already printed open
    the same video on the target; importing it twice is refused, naming the keys."""
    video = ClinicMedia.objects.get(clinic=moved, kind=ClinicMedia.Kind.VIDEO)
    link = ClinicMedia.objects.get(clinic=moved, kind=ClinicMedia.Kind.LINK)
    path, _ = export(moved, tmp_path)
    remove(moved)
    assert client.get(f"/m/{video.key}").status_code == 404

    call_command("clinic_import", str(path), stdout=io.StringIO())

    response = client.get(f"/m/{video.key}")
    assert response.status_code == 200 and response["Content-Type"] == "video/mp4"
    assert b"".join(response.streaming_content) == mp4(20)
    response = client.get(f"/m/{link.key}")
    assert response.status_code == 302 and response.url == "https://youtu.be/our-psoas"
    clinic = Clinic.objects.get(slug=moved.slug)
    moved_video = ClinicMedia.objects.get(key=video.key)
    assert moved_video.clinic == clinic and moved_video.file.name.startswith(
        f"clinic-media/{clinic.pk}/"
    )
    Clinic.objects.filter(pk=clinic.pk).update(slug="renamed")
    Exercise.objects.filter(clinic=clinic).update(slug="renamed-slide")
    Membership.objects.filter(clinic=clinic).delete()
    with pytest.raises(
        CommandError, match=f"clinic media link keys already used here: .*{video.key}"
    ):
        call_command("clinic_import", str(path), check=True, stdout=io.StringIO())


def test_an_archive_from_another_version_is_refused_in_words(moved, tmp_path):
    """An archive made before a table existed (clinic media, say) is refused for its
    migrations, as the message says, not with an error about the missing table."""
    from openhep.clinic_move.load import (
        clinic_archive_verify,
        clinic_import_plan,
        clinic_import_problems,
    )

    path, _ = export(moved, tmp_path)
    archive = clinic_archive_verify(path=path)
    del archive.data["tables"]["exercises.ClinicMedia"]
    archive.header["migrations"] = ["exercises.0012_image_animation"]
    problems = clinic_import_problems(archive)
    assert problems == [
        "the archive was made by an OpenHEP whose database is at other migrations "
        "(export and import with the same version, migrated)"
    ]
    assert clinic_import_plan(archive).rows["exercises.ClinicMedia"] == 0


def test_an_archive_with_a_video_link_that_is_not_https_is_refused(moved, tmp_path):
    """A tampered archive cannot bring a ``javascript:`` link onto the staff's pages."""
    from openhep.clinic_move.load import clinic_archive_verify, clinic_import_problems

    path, _ = export(moved, tmp_path)
    remove(moved)
    archive = clinic_archive_verify(path=path)
    [link] = [row for row in archive.data["tables"]["exercises.ClinicMedia"] if row["url"]]
    assert clinic_import_problems(archive) == []
    link["url"] = "javascript:alert(1)"
    assert clinic_import_problems(archive) == [
        "clinic video links that are not https addresses: javascript:alert(1)"
    ]
