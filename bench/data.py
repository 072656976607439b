"""The bench's own data, built in its throw-away database.

Small sizes first (10 patients, 100 exercises), so query counts can be taken
there; then ``grow`` brings the same clinic to 1,000 patients and 10,000
exercises for the second count, the search latency and the load test.
"""

import datetime
import io
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from clinic.audit import Actor
from clinic.models import Clinic, Membership, Patient, User
from exercises.models import Exercise, ExerciseImage, ExerciseStep
from openhep.management.commands.demo import demo_logo
from prescriptions import services
from prescriptions.models import Prescription, PrescriptionItem

EMAIL = "therapist@bench.example"
PASSWORD = "bench-only-not-a-secret"
SEARCH = "stretch"  # in the names of many bundled exercises, so of many variants too
HANDOUT_SIZES = (1, 8, 20, 50)
VIDEO_PREFIX = "https://videos.bench.example/watch?v="
# An issued handout prints the patient's page as a QR code too (prescriptions.links):
# the bench's renders print this one, of a real token's length.
PROGRAM_URL = "https://hep.bench.example/p/" + "bEnChToKeN" * 4 + "xyz/"
FIRST_NAMES = ["Jordan", "Maggie", "Priya", "Tom", "Aiko", "Luca", "Noor", "Sipho", "Ana", "Ben"]
LAST_NAMES = ["Ellis", "O'Brien", "Raman", "Becker", "Sato", "Rossi", "Haddad", "Dlamini", "Silva"]


@dataclass
class BenchData:
    user: User
    clinic: Clinic
    drafts: dict[int, Prescription]  # exercise count -> a draft with that many
    issued: Prescription  # 8 exercises, issued: its PDF is stored


def build() -> BenchData:
    # The real library (64 exercises with their SVG line drawings, in MEDIA_ROOT).
    call_command("load_library", stdout=io.StringIO())
    # Every bundled exercise gets a video, as a clinic that films its library would have:
    # each card of a handout then prints a QR code (issue 19; the library ships none).
    Exercise.objects.filter(clinic__isnull=True).update(
        video_url=Concat(Value(VIDEO_PREFIX), F("slug"))
    )
    bundled = list(Exercise.objects.filter(clinic__isnull=True).order_by("name"))
    with transaction.atomic():
        clinic = Clinic.objects.create(
            name="Bench Remedial & Myotherapy",
            slug="bench",
            phone="(03) 9000 0000",
            email="hello@bench.example",
            website="https://bench.example",
            address="12 Example Street\nFitzroy VIC 3065",
            handout_footer="Questions? Call us on (03) 9000 0000.",
        )
        # A real logo, as the demo clinic has: one more image in every handout.
        clinic.logo.save("bench-logo.png", ContentFile(demo_logo()), save=True)
        user = User.objects.create_user(
            email=EMAIL, password=PASSWORD, first_name="Sam", last_name="Taylor"
        )
        Membership.objects.create(
            user=user, clinic=clinic, role=Membership.Role.THERAPIST, title="Myotherapist"
        )
    add_patients(clinic, user, 10)
    add_exercises(100)
    patients = list(Patient.objects.filter(clinic=clinic).order_by("pk"))
    # Prescriptions are built through the app's services, as a therapist would.
    drafts = {
        n: prescription(patients[i], user, bundled[:n], title=f"Program with {n} exercises")
        for i, n in enumerate(HANDOUT_SIZES)
    }
    issued = prescription(patients[5], user, bundled[8:16], title="Issued program")
    services.prescription_issue(prescription=issued, actor=Actor(user))
    # More plans, so the dashboard's "recent prescriptions" list is full (15 rows).
    for i in range(20):
        prescription(patients[i % len(patients)], user, bundled[i : i + 3], title=f"Plan {i}")
    return BenchData(user=user, clinic=clinic, drafts=drafts, issued=issued)


def grow() -> None:
    clinic = Clinic.objects.get(slug="bench")
    add_patients(clinic, User.objects.get(email=EMAIL), 1000)
    add_exercises(10_000)
    update_statistics()


def update_statistics() -> None:
    """PostgreSQL: VACUUM ANALYZE after the bulk inserts, as autovacuum would.

    A running server's autovacuum analyzes tables soon after they grow. The
    bench measures right away (and its server may run with autovacuum off), so
    without this the planner would have no column statistics for the new rows
    and plan with default guesses (it took the 3,594 exercises matching the
    search for a single row). SQLite keeps statistics only when asked with
    ANALYZE, which the app never does, so it is left as a deployment has it.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def prescription(patient, therapist, exercises, *, title) -> Prescription:
    rx = services.prescription_create(patient=patient, actor=Actor(therapist), title=title)
    rx.advice = "Move slowly and breathe out as you stretch. Stop if anything hurts."
    rx.review_date = timezone.localdate() + datetime.timedelta(weeks=3)
    rx.log_weeks = 1  # the tick-box log page, as the demo's issued handout has
    rx.save()
    for exercise in exercises:
        services.prescription_add_exercise(
            prescription=rx, exercise=exercise, actor=Actor(rx.therapist)
        )
    PrescriptionItem.objects.filter(prescription=rx, order=0).update(
        note="Gently: stop if you feel dizzy."
    )
    return rx


def add_patients(clinic, user, total: int) -> None:
    have = Patient.objects.filter(clinic=clinic).count()
    Patient.objects.bulk_create(
        (
            Patient(
                clinic=clinic,
                first_name=FIRST_NAMES[n % len(FIRST_NAMES)],
                last_name=f"{LAST_NAMES[n % len(LAST_NAMES)]}-{n}",
                email=f"patient{n}@patient.example",
                phone=f"0400 000 {n:03d}",
                created_by=user,
            )
            for n in range(have, total)
        ),
        batch_size=500,
    )


@transaction.atomic
def add_exercises(total: int) -> None:
    """Grow the shared library to ``total`` published exercises.

    The new ones are variants of the bundled exercises (same texts, steps,
    regions, categories, equipment and main picture, a numbered name), so a
    search finds them and the cards show them as they would real ones.
    Bulk inserts skip the change history, which is fine for a benchmark.
    """
    have = Exercise.objects.count()
    if have >= total:
        return
    bases = list(
        Exercise.objects.filter(clinic__isnull=True, images__is_main=True)
        .exclude(slug__contains="-variant-")
        .prefetch_related("steps", "regions", "categories", "equipment", "images")
        .order_by("name")
    )
    copied = ("aliases", "summary", "indications", "why", "setup", "cues", "cautions")
    copied += ("position", "difficulty", "hold_seconds", "reps", "sets", "side")
    copied += ("times_per_day", "days_per_week")
    pairs = []
    for n in range(have, total):
        base = bases[n % len(bases)]
        variant = Exercise(
            name=f"{base.name} (variant {n})",
            slug=f"{base.slug}-variant-{n}",
            status=Exercise.Status.PUBLISHED,
            **{name: getattr(base, name) for name in copied},
        )
        pairs.append((base, variant))
    Exercise.objects.bulk_create([v for _, v in pairs], batch_size=500)
    steps, images, links = [], [], {"regions": [], "categories": [], "equipment": []}
    for base, variant in pairs:
        steps += [
            ExerciseStep(exercise=variant, order=s.order, text=s.text) for s in base.steps.all()
        ]
        main = next(i for i in base.images.all() if i.is_main)
        images.append(
            ExerciseImage(
                exercise=variant,
                image=main.image.name,  # the same file: no need to copy it
                alt_text=main.alt_text,
                is_main=True,
                credit=main.credit,
                order=main.order,
            )
        )
        for name, rows in links.items():
            through = getattr(Exercise, name).through
            column = f"{getattr(Exercise, name).field.related_model._meta.model_name}_id"
            rows += [
                through(exercise_id=variant.pk, **{column: t.pk}) for t in getattr(base, name).all()
            ]
    ExerciseStep.objects.bulk_create(steps, batch_size=1000)
    ExerciseImage.objects.bulk_create(images, batch_size=1000)
    for name, rows in links.items():
        getattr(Exercise, name).through.objects.bulk_create(rows, batch_size=1000)
