"""Render example handouts (3 and 10 exercises) to PDF and PNG pages for the docs.

Everything it creates lives in a transaction that is rolled back: the database
is left as it was.
"""

import shutil
import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from clinic.models import Clinic, Patient, User
from exercises.models import Exercise
from prescriptions import handouts
from prescriptions.models import Prescription, PrescriptionItem
from prescriptions.selectors import handout_snapshot, prescription_for_handout

EXAMPLES = {
    "3-exercises": ["psoas-stretch-standing", "quadriceps-stretch-standing", "glute-bridge"],
    "10-exercises": [
        "chin-tuck",
        "upper-trap-stretch",
        "levator-scapulae-stretch",
        "doorway-pec-stretch",
        "wall-angel",
        "band-row",
        "thread-the-needle",
        "cat-cow",
        "open-book",
        "diaphragmatic-breathing",
    ],
}


class Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Render example 3- and 10-exercise handouts to PDF and PNG (nothing is saved)."

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path, help="Where to write the PDFs and PNGs.")
        parser.add_argument("--dpi", type=int, default=60)

    def handle(self, *args, folder: Path, dpi: int, **options):
        if not shutil.which("pdftoppm"):
            raise CommandError("pdftoppm is missing (apt-get install poppler-utils).")
        folder.mkdir(parents=True, exist_ok=True)
        try:
            with transaction.atomic():
                self._render_all(folder, dpi)
                raise Rollback
        except Rollback:
            pass

    def _render_all(self, folder: Path, dpi: int):
        clinic = Clinic.objects.filter(slug="demo").first() or Clinic.objects.create(
            name="Example Clinic", slug="example-clinic", phone="(03) 9000 0000"
        )
        therapist = User.objects.create_user(
            "examples@clinic.example", first_name="Sam", last_name="Taylor"
        )
        patient = Patient.objects.create(clinic=clinic, first_name="Alex", last_name="Example")
        for name, slugs in EXAMPLES.items():
            exercises = {e.slug: e for e in Exercise.objects.filter(slug__in=slugs)}
            missing = sorted(set(slugs) - set(exercises))
            if missing:
                raise CommandError(f"Load the library first (missing: {', '.join(missing)}).")
            rx = Prescription.objects.create(
                clinic=clinic,
                patient=patient,
                therapist=therapist,
                title="Your home exercise program",
                log_weeks=1,
                advice="Warm up with a short walk first. Move slowly and keep breathing.",
            )
            for order, slug in enumerate(slugs):
                PrescriptionItem.objects.create(
                    prescription=rx,
                    exercise=exercises[slug],
                    order=order,
                    **exercises[slug].dose.as_dict(),
                )
            pdf = handouts.render_pdf(
                handout_snapshot(prescription_for_handout(rx.pk)), draft=False
            )
            target = folder / f"handout-{name}.pdf"
            target.write_bytes(pdf)
            for old in folder.glob(f"handout-{name}-*.png"):
                old.unlink()
            subprocess.run(  # noqa: S603 - fixed arguments, our own paths
                [
                    shutil.which("pdftoppm") or "pdftoppm",
                    "-r",
                    str(dpi),
                    "-png",
                    str(target),
                    str(folder / f"handout-{name}"),
                ],
                check=True,
            )
            target.unlink()
            pages = sorted(folder.glob(f"handout-{name}-*.png"))
            self.stdout.write(f"{name}: {len(pages)} page(s) in {folder}")
