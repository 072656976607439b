"""Defaults that fail safe: a production process (DEBUG off) refuses to start on
settings that only suit a developer's machine, unless told in so many words.

- No DATABASE_URL: the records would go to the embedded SQLite file in var/,
  silently. ``ALLOW_SQLITE_IN_PRODUCTION=1`` accepts it (a single small clinic).
  An explicit ``DATABASE_URL=sqlite:///…`` is a choice and is accepted.
- The immediate task backend: handout emails would be sent inside the request,
  with no retries. ``ALLOW_IMMEDIATE_TASKS=1`` accepts it.

The web process (``openhep/wsgi.py``) and the worker (``db_worker``) call
``refuse_unsafe_production``; ``manage.py check --deploy`` reports the same as
errors.
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

IMMEDIATE = "django.tasks.backends.immediate.ImmediateBackend"


def unsafe_production_settings() -> list[str]:
    """What is unsafe about these settings in production, in words an operator acts on."""
    if settings.DEBUG:
        return []
    problems = []
    if not settings.DATABASE_URL and not settings.OPENHEP_ALLOW_SQLITE_IN_PRODUCTION:
        problems.append(
            "DATABASE_URL is not set, so records would go to a SQLite file in var/. Set "
            "DATABASE_URL (or DATABASE_URL_FILE) to the PostgreSQL database, or "
            "ALLOW_SQLITE_IN_PRODUCTION=1 to keep SQLite on purpose."
        )
    if settings.TASKS["default"]["BACKEND"] == IMMEDIATE and not (
        settings.OPENHEP_ALLOW_IMMEDIATE_TASKS
    ):
        problems.append(
            "TASKS_BACKEND is the immediate backend, so emails would be sent inside the "
            "request with no retries. Set TASKS_BACKEND=django_tasks_db.DatabaseBackend and "
            "run `manage.py db_worker`, or ALLOW_IMMEDIATE_TASKS=1 to keep it on purpose."
        )
    return problems


def refuse_unsafe_production() -> None:
    """Stop a web or worker process from starting on unsafe production settings."""
    if problems := unsafe_production_settings():
        raise ImproperlyConfigured("Refusing to start: " + " ".join(problems))


@checks.register(checks.Tags.compatibility, deploy=True)
def check_production_defaults(app_configs, **kwargs):
    return [
        checks.Error(problem, id=f"openhep.E00{number}")
        for number, problem in enumerate(unsafe_production_settings(), start=1)
    ]


@checks.register(checks.Tags.compatibility, deploy=True)
def check_site_url(app_configs, **kwargs):
    """Handouts print the patient's page as a QR code: without SITE_URL it would name
    this machine's development address, which no patient's phone can open."""
    if settings.DEBUG or settings.SITE_URL:
        return []
    return [
        checks.Warning(
            "SITE_URL is not set, so handouts print patient-page QR codes for "
            "http://127.0.0.1:8000, which patients cannot open.",
            hint="Set SITE_URL to the public address, e.g. https://openhep.example.org.",
            id="openhep.W001",
        )
    ]
