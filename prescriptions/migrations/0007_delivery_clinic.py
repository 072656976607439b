"""Deliveries carry their clinic (the email log reads one clinic's rows from an index);
the dashboard reads a therapist's prescriptions from one."""

import django.db.models.deletion
from django.db import migrations, models


def fill_clinic(apps, schema_editor):
    Delivery = apps.get_model("prescriptions", "Delivery")
    Prescription = apps.get_model("prescriptions", "Prescription")
    Delivery.objects.update(
        clinic_id=models.Subquery(
            Prescription.objects.filter(pk=models.OuterRef("prescription_id")).values(
                "clinic_id"
            )[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0010_worker_heartbeat"),
        ("prescriptions", "0006_reps_label"),
    ]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="clinic",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="clinic.clinic",
            ),
        ),
        migrations.RunPython(fill_clinic, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="delivery",
            name="clinic",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="clinic.clinic",
            ),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                fields=["clinic", "-created_at", "-id"], name="delivery_clinic_created_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="prescription",
            index=models.Index(
                fields=["therapist", "-updated_at", "-id"], name="rx_therapist_updated_idx"
            ),
        ),
    ]
