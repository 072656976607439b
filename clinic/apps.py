from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinics, staff and patients"

    def ready(self):
        from django.db.backends.signals import connection_created

        from clinic import signals  # noqa: F401  (connects the sign-in receiver)
        from clinic.names import register_fold

        connection_created.connect(register_fold, dispatch_uid="openhep_sqlite_fold")
