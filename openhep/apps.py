from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import pre_save


class OpenHEPConfig(AppConfig):
    """The project package: settings and wiring, and the operations commands
    (``backup``, ``restore``, ``demo``, ``load_library``) that reach every app."""

    name = "openhep"
    verbose_name = "OpenHEP"

    def ready(self):
        from django_tasks_db.models import DBTaskResult

        from openhep import (
            checks,  # noqa: F401 (registers the production checks)
            logs,
            metrics,
        )
        from prescriptions.handouts import handout_rendered

        # A queued task keeps the request id; handouts drawn are counted.
        pre_save.connect(logs.stamp_task, sender=DBTaskResult, dispatch_uid="openhep.stamp_task")
        handout_rendered.connect(metrics.handout_rendered, dispatch_uid="openhep.handout_metrics")
        if settings.SENTRY_DSN:
            logs.sentry_init(dsn=settings.SENTRY_DSN, environment=settings.SENTRY_ENVIRONMENT)
