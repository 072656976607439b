from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinics, staff and patients"

    def ready(self):
        from clinic import signals  # noqa: F401  (connects the sign-in receiver)
