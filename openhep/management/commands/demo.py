import datetime
import io
import uuid

import fontpkg_atkinson_hyperlegible
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from clinic.audit import Actor
from clinic.forms import PatientForm
from clinic.models import Clinic, Membership, Patient, User
from clinic.services import patient_create
from exercises.models import Exercise
from outcomes.models import Questionnaire
from outcomes.services import questionnaires_load, response_record, schedule_add
from patientpage.services import PATIENT, SessionReport, session_record
from prescriptions import services
from prescriptions.models import Prescription, ProgramLink

DEFAULT_PASSWORD = "openhep-demo"
STAFF = [
    (
        "admin@clinic.example",
        "Alex",
        "Nguyen",
        Membership.Role.ADMIN,
        "Clinic director, myotherapist",
    ),
    (
        "therapist@clinic.example",
        "Sam",
        "Taylor",
        Membership.Role.THERAPIST,
        "Remedial massage therapist",
    ),
]
PATIENTS = [
    ("Jordan", "Ellis", "", datetime.date(1984, 3, 12), "jordan.ellis@patient.example", True),
    ("Margaret", "O'Brien", "Maggie", datetime.date(1951, 9, 30), "maggie@patient.example", True),
    ("Priya", "Raman", "", datetime.date(1993, 6, 2), "", False),
    ("Tom", "Becker", "", datetime.date(1978, 11, 20), "tom.becker@patient.example", False),
]
ISSUED: tuple[str, str, str, list[tuple[str, dict[str, str]]]] = (
    "Jordan",
    "Hip flexors and lower back",
    "Do these after a warm shower or a short walk. Move slowly and breathe out as you stretch.",
    [("psoas-stretch-standing", {}), ("quadriceps-stretch-standing", {}), ("glute-bridge", {})],
)
DRAFT = (
    "Margaret",
    "Neck and shoulders",
    "",
    [("chin-tuck", {}), ("upper-trap-stretch", {"note": "Gently – stop if you feel dizzy."})],
)


class Command(BaseCommand):
    help = "Create (idempotently) a demo clinic with staff, patients and prescriptions."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password", default=DEFAULT_PASSWORD, help="Password for the demo logins."
        )

    def handle(self, *args, password, **options):
        if not Exercise.objects.filter(clinic__isnull=True).exists():
            call_command("load_library", stdout=self.stdout)
        with transaction.atomic():
            clinic, _ = Clinic.objects.get_or_create(
                slug="demo",
                defaults={
                    "name": "Northside Remedial & Myotherapy (demo)",
                    "phone": "(03) 9000 0000",
                    "email": "hello@clinic.example",
                    "website": "https://clinic.example",
                    "address": "12 Example Street\nFitzroy VIC 3065",
                },
            )
            if not clinic.logo:
                clinic.logo.save("northside-logo.png", ContentFile(demo_logo()), save=True)
            users = {}
            for email, first, last, role, title in STAFF:
                user, _ = User.objects.get_or_create(
                    email=email, defaults={"first_name": first, "last_name": last}
                )
                user.set_password(password)
                user.is_active = True
                user.save()
                Membership.objects.update_or_create(
                    user=user, defaults={"clinic": clinic, "role": role, "title": title}
                )
                users[role] = user
            therapist = users[Membership.Role.THERAPIST]
            patients = {}
            for first, last, preferred, born, email, consent in PATIENTS:
                patient = Patient.objects.filter(
                    clinic=clinic, first_name=first, last_name=last
                ).first()
                if patient is None:
                    # Through the service, as the patient form does: audited like any other.
                    form = PatientForm(
                        {
                            "first_name": first,
                            "last_name": last,
                            "preferred_name": preferred,
                            "date_of_birth": born.isoformat() if born else "",
                            "email": email,
                            **({"email_consent": "on"} if consent else {}),
                        },
                        clinic=clinic,
                    )
                    if not form.is_valid():
                        raise CommandError(f"Demo patient {first}: {form.errors.as_text()}")
                    patient = patient_create(clinic=clinic, actor=Actor(therapist), form=form)
                patients[first] = patient
        for (first, title, advice, items), issue in ((ISSUED, True), (DRAFT, False)):
            self._prescription(patients[first], therapist, title, advice, items, issue=issue)

        self.stdout.write(self.style.SUCCESS(f"Demo clinic ready: {clinic.name}"))
        for email, *_rest, role, _title in STAFF:
            self.stdout.write(f"  {Membership.Role(role).label:<13} {email} / {password}")

    def _prescription(self, patient, therapist, title, advice, items, *, issue: bool):
        if Prescription.objects.filter(patient=patient, title=title).exists():
            return
        exercises = {e.slug: e for e in Exercise.objects.filter(slug__in=[s for s, _ in items])}
        with transaction.atomic():
            rx = services.prescription_create(patient=patient, actor=Actor(therapist), title=title)
            rx.advice = advice
            rx.review_date = timezone.localdate() + datetime.timedelta(weeks=3)
            rx.log_weeks = 1 if issue else 0
            rx.large_print = not issue  # Maggie's eyesight: the draft is in large print.
            rx.save()
            for slug, extra in items:
                if slug not in exercises:
                    continue
                item = services.prescription_add_exercise(
                    prescription=rx, exercise=exercises[slug], actor=Actor(therapist)
                )
                if extra:
                    for key, value in extra.items():
                        setattr(item, key, value)
                    item.save()
        if issue:
            # Outside the transaction above: the handout is drawn after the issue commits
            # (in this command with the immediate backend, or by the worker).
            services.prescription_issue(prescription=rx, actor=Actor(therapist))
            demo_activity(rx, therapist)


# Jordan's first weeks with the program, one line a session: days after the issue, the
# exercises done (by position), pain, how the bridge felt, a note.
ACTIVITY = [
    (0, (0, 1, 2), 5, "right", ""),
    (1, (0, 1), 5, "", ""),
    (2, (0, 1, 2), 4, "right", ""),
    (4, (0, 1, 2), 4, "", "Knee a bit stiff in the morning, better after a walk."),
    (5, (0, 1), 4, "", ""),
    (7, (0, 1, 2), 3, "easy", ""),
    (8, (0,), 3, "", ""),
    (10, (0, 1, 2), 3, "right", ""),
    (11, (0, 1), 2, "", ""),
    (13, (0, 1, 2), 3, "", ""),
    (14, (0, 1, 2), 2, "right", ""),
    (16, (0, 1, 2), 7, "hard", "The bridge hurt my lower back today; stopped after one set."),
]
ACTIVITY_DAYS = 17


def demo_activity(rx, therapist) -> None:
    """Sessions Jordan logged on their page, so the loop has something to show: the
    program is dated back to its first day (demo data only) and each session goes
    through the page's own service, which raises the dashboard's follow-ups."""
    start = timezone.now() - datetime.timedelta(days=ACTIVITY_DAYS)
    Prescription.objects.filter(pk=rx.pk).update(issued_at=start)
    link = ProgramLink.objects.get(prescription=rx)
    items = list(rx.items.order_by("order", "pk"))
    patient = Actor(user=None, name=PATIENT)
    for day, done, pain, bridge, note in ACTIVITY:
        when = start + datetime.timedelta(days=day, hours=10)
        session_record(
            link=link,
            report=SessionReport(
                client_ref=uuid.uuid5(uuid.NAMESPACE_URL, f"openhep-demo/{rx.pk}/{day}"),
                started_at=when,
                done={items[n].pk for n in done if n < len(items)},
                difficulty={items[-1].pk: bridge} if bridge else {},
                finished=True,
                pain=pain,
                note=note,
            ),
            actor=patient,
        )
    demo_outcomes(rx, therapist, start)


# Jordan's scores: a paper form at the first visit, then answers on the page two weeks
# on (days after the issue, pain now/average/worst, ratings of the three activities).
ACTIVITIES = ["Putting on socks", "Sitting through a work meeting", "Running for the tram"]
SCORES = [(0, (7, 6, 8), (3, 4, 2), "paper"), (14, (4, 3, 6), (6, 6, 3), "page")]


def demo_outcomes(rx, therapist, start) -> None:
    """What the program asks Jordan (pain at issue, activities every two weeks, how
    things changed at the review) and what Jordan answered, through the services."""
    questionnaires_load()
    found = {q.slug: q for q in Questionnaire.objects.filter(clinic=None, is_active=True)}
    asks = [("pain-rating", "issue", None), ("patient-specific-function", "every", 2)]
    if rx.review_date:
        asks.append(("global-change", "review", None))
    for slug, when, weeks in asks:
        schedule_add(
            prescription=rx,
            questionnaire=found[slug],
            when=when,
            every_weeks=weeks,
            actor=Actor(therapist),
        )
    for day, pain, ratings, source in SCORES:
        answers: dict[str, dict] = {
            "pain-rating": dict(zip(("now", "average", "worst"), pain, strict=True)),
            "patient-specific-function": {
                "activities": [
                    {"name": name, "rating": rating}
                    for name, rating in zip(ACTIVITIES, ratings, strict=True)
                ]
            },
        }
        for slug, given in answers.items():
            response_record(
                patient=rx.patient,
                questionnaire=found[slug],
                answers=given,
                source=source,
                actor=Actor(therapist) if source == "paper" else Actor(user=None, name=PATIENT),
                prescription=rx,
                answered_on=timezone.localdate(start + datetime.timedelta(days=day)),
            )


def demo_logo() -> bytes:
    """A simple made-up mark for the demo clinic: a teal disc with a stylised N and a wordmark."""
    font_path = fontpkg_atkinson_hyperlegible.ROOT / "files" / "AtkinsonHyperlegible-Bold.ttf"
    image = Image.new("RGBA", (900, 240), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((10, 10, 230, 230), fill=(15, 94, 110, 255))
    draw.line([(75, 170), (75, 70), (165, 170), (165, 70)], fill="white", width=22, joint="curve")
    draw.text(
        (265, 45), "Northside", font=ImageFont.truetype(str(font_path), 96), fill=(15, 94, 110)
    )
    draw.text(
        (268, 150),
        "REMEDIAL & MYOTHERAPY",
        font=ImageFont.truetype(str(font_path), 44),
        fill=(60, 60, 60),
    )
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
