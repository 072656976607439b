"""Render example handouts (3, 5 and 10 exercises, standard and large print) to PDF and
PNG pages for the docs.

Everything it creates lives in a transaction that is rolled back: the database
is left as it was.
"""

import shutil
import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from PIL import Image

from clinic.models import Clinic, Patient, User
from exercises.models import Exercise
from prescriptions import handouts, links
from prescriptions.models import Prescription, PrescriptionItem
from prescriptions.selectors import handout_snapshot, prescription_for_handout

EXAMPLES = {
    "3-exercises": ["psoas-stretch-standing", "quadriceps-stretch-standing", "glute-bridge"],
    "5-exercises": [
        "pelvic-tilt",
        "knee-to-chest",
        "lower-trunk-rotation",
        "clamshell",
        "bird-dog",
    ],
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
# What a therapist typically adds: a note on the second exercise, a video on the third.
NOTE = "Keep it gentle this week; we will progress it at your next visit."
VIDEO = "https://videos.clinic.example/{slug}"
# An example of a patient page's token (no page opens at it).
EXAMPLE_TOKEN = "k7q2mxa4tn3hc5wd6rjb2fve4u"


class Rollback(Exception):
    pass


class Command(BaseCommand):
    help = (
        "Render example 3-, 5- and 10-exercise handouts, standard and large print, to PNG "
        "pages (nothing is saved)."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path, help="Where to write the PNGs.")
        parser.add_argument("--dpi", type=int, default=60)

    def handle(self, *args, folder: Path, dpi: int, **options):
        if not shutil.which("pdftoppm"):
            raise CommandError("pdftoppm is missing (apt-get install poppler-utils).")
        folder.mkdir(parents=True, exist_ok=True)
        # Pages of an earlier run may be more than this run makes: none may stay behind.
        for old in folder.glob("handout-*-exercises*.png"):
            old.unlink()
        try:
            with transaction.atomic():
                self._render_all(folder, dpi)
                raise Rollback
        except Rollback:
            pass

    def _render_all(self, folder: Path, dpi: int):
        clinic = Clinic.objects.filter(slug="demo").first() or Clinic.objects.create(
            name="Example Clinic",
            slug="example-clinic",
            phone="(03) 9000 0000",
            email="hello@clinic.example",
            address="12 High Street, Northcote VIC 3070",
            handout_footer="Stop any exercise that causes sharp or increasing pain, and call us.",
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
                exercise = exercises[slug]
                if order == 2:
                    exercise.video_url = VIDEO.format(slug=slug)
                    exercise.save(update_fields=["video_url"])
                PrescriptionItem.objects.create(
                    prescription=rx,
                    exercise=exercise,
                    order=order,
                    note=NOTE if order == 1 else "",
                    **exercise.dose.as_dict(),
                )
            for large_print in (False, True):
                Prescription.objects.filter(pk=rx.pk).update(large_print=large_print)
                snapshot = handout_snapshot(prescription_for_handout(rx.pk))
                pdf = handouts.render_pdf(
                    snapshot, draft=False, program_url=links.page_url(EXAMPLE_TOKEN)
                )
                stem = f"handout-{name}" + ("-large-print" if large_print else "")
                pages = self._pngs(pdf, folder, stem, dpi)
                self.stdout.write(f"{stem}: {len(pages)} page(s) in {folder}")

    def _pngs(self, pdf: bytes, folder: Path, stem: str, dpi: int) -> list[Path]:
        target = folder / f"{stem}.pdf"
        target.write_bytes(pdf)
        try:
            subprocess.run(  # noqa: S603 - fixed arguments, our own paths
                [
                    shutil.which("pdftoppm") or "pdftoppm",
                    "-r",
                    str(dpi),
                    "-png",
                    str(target),
                    str(folder / stem),
                ],
                check=True,
            )
        finally:
            target.unlink()
        pages = sorted(
            folder.glob(f"{stem}-[0-9]*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1])
        )
        for page in pages:
            # Flat colours and text: a 128-colour palette keeps the docs small, looks the same.
            with Image.open(page) as image:
                small = image.convert("RGB").quantize(colors=128)
            small.save(page, optimize=True)
        return pages
