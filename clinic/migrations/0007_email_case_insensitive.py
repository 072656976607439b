# E-mail addresses become case-insensitive: existing addresses are lower-cased, then
# a unique constraint on LOWER(email) holds it. Two accounts whose addresses differ
# only in case cannot be merged by a migration (each has its own password, clinic
# and history), so the migration stops and names them for the operator to resolve.

import django.db.models.functions.text
from django.db import migrations, models
from django.db.models import Count
from django.db.models.functions import Lower


class CaseClash(Exception):
    pass


def lower_case_addresses(apps, schema_editor):
    User = apps.get_model("clinic", "User")
    users = User.objects.using(schema_editor.connection.alias)
    clashing = (
        users.annotate(address=Lower("email"))
        .values("address")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .values_list("address", flat=True)
    )
    groups = []
    for address in clashing:
        ids = sorted(
            users.annotate(address=Lower("email"))
            .filter(address=address)
            .values_list("pk", flat=True)
        )
        groups.append("user ids " + ", ".join(str(pk) for pk in ids))
    if groups:
        raise CaseClash(
            "E-mail addresses are now the same whatever their letter case, and these "
            "accounts have addresses that differ only in case: "
            + "; ".join(groups)
            + ". Nothing was changed. Give all but one of each group another address "
            "(or deactivate and rename it) in the Django admin or the shell, then run "
            "migrate again."
        )
    users.exclude(email=Lower("email")).update(email=Lower("email"))


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("clinic", "0006_audit_clinic_events"),
    ]

    operations = [
        migrations.RunPython(lower_case_addresses, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("email"),
                name="user_email_ci_unique",
                violation_error_message="An account with this email address already exists "
                "(addresses are the same whatever their letter case).",
            ),
        ),
    ]
