"""Helpers for audit entries (written by ``clinic.services.audit_record``)."""


def changed_fields(form) -> str:
    """An audit detail naming the changed fields by their labels (never their values)."""
    return "Changed: " + ", ".join(
        str(form.fields[name].label).lower() for name in form.changed_data
    )
