from django.db import migrations, models


class Migration(migrations.Migration):
    # The library page without search words lists published exercises by name,
    # 24 at a time: with this index the database reads them in order and stops,
    # instead of sorting every published exercise for each page.
    dependencies = [
        ("exercises", "0004_search_trigram"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="exercise",
            index=models.Index(fields=["status", "name"], name="exercise_status_name_idx"),
        ),
    ]
