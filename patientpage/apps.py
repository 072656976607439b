from django.apps import AppConfig


class PatientPageConfig(AppConfig):
    name = "patientpage"
    verbose_name = "Patient page"
