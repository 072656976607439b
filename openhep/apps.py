from django.apps import AppConfig


class OpenHEPConfig(AppConfig):
    """The project package: settings and wiring, and the operations commands
    (``backup``, ``restore``, ``demo``, ``load_library``) that reach every app."""

    name = "openhep"
    verbose_name = "OpenHEP"

    def ready(self):
        from openhep import checks  # noqa: F401 (registers the production checks)
