from django.apps import AppConfig


class RecordsConfig(AppConfig):
    """Staff pages over a patient's whole record (the patient model lives in ``clinic``;
    this app sits above ``prescriptions`` because a record shows its programs)."""

    name = "records"
    verbose_name = "Patient records"
