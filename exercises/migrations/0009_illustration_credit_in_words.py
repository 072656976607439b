"""The bundled drawings' credit named a file of the repository (shown on the exercise's
page); it now says who drew them. The loader finds its drawings by this credit, so the
stored ones are renamed here, including clinic copies that carried it over."""

from django.db import migrations

OLD = "Illustration: OpenHEP, drawn from exercises/library/poses.json"
NEW = "Illustration: OpenHEP's own line drawing"


def forwards(apps, schema_editor):
    apps.get_model("exercises", "ExerciseImage").objects.filter(credit=OLD).update(credit=NEW)


def backwards(apps, schema_editor):
    apps.get_model("exercises", "ExerciseImage").objects.filter(credit=NEW).update(credit=OLD)


class Migration(migrations.Migration):
    dependencies = [("exercises", "0008_moved_video_signatures")]

    operations = [migrations.RunPython(forwards, backwards)]
