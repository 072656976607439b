from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from exercises.illustrations import load_poses
from exercises.services import (
    LibraryError,
    illustrations_load,
    library_load,
    read_library_file,
)
from outcomes.services import questionnaires_load
from prescriptions.services import templates_load


class Command(BaseCommand):
    help = "Load or update the bundled exercise library. Running it twice changes nothing."

    def add_arguments(self, parser):
        parser.add_argument(
            "--file",
            type=Path,
            default=None,
            help="Library JSON file (default: the bundled library).",
        )

    def handle(self, *args, file: Path | None, **options):
        file = file or self.default_file()
        if not file.is_file():
            raise CommandError(f"No library file at {file}")
        try:
            report = library_load(entries=read_library_file(file))
        except LibraryError as error:
            for problem in error.problems:
                self.stderr.write(f"  {problem}")
            raise CommandError(
                f"The library was not loaded (nothing changed): {len(error.problems)} problem(s)."
            ) from error
        self.stdout.write(self.style.SUCCESS(f"Exercise library: {report}."))
        if file == self.default_file():
            drawn = illustrations_load(poses=load_poses())
            self.stdout.write(self.style.SUCCESS(f"Illustrations: {drawn} drawn or redrawn."))

            templates = read_library_file(settings.OPENHEP_LIBRARY_DIR / "templates.json")
            try:
                changed = templates_load(entries=templates)
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from error
            self.stdout.write(
                self.style.SUCCESS(f"Templates: {len(templates)} bundled, {changed} changed.")
            )
            changed = questionnaires_load()
            self.stdout.write(
                self.style.SUCCESS(f"Questionnaires: bundled ones loaded, {changed} changed.")
            )

    @staticmethod
    def default_file() -> Path:
        return settings.OPENHEP_LIBRARY_DIR / "exercises.json"
