from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations
from django.db.models import F, TextField, Value
from django.db.models.functions import Concat, Upper

# The library search tests every word with icontains on name, aliases, summary
# and indications joined by spaces (exercises.search.search_text), which
# PostgreSQL runs as UPPER(<joined>::text) LIKE UPPER('%word%'). A trigram GIN
# index on that very expression lets the planner answer it from the index
# instead of upper-casing four columns of every row. The expression is frozen
# here, as a migration must be; tests/exercises/test_search_indexes.py checks
# that the planner still picks the index for the selector's query. Built by
# Django's schema editor from the same expression classes the query uses, so the
# two compile alike (sqlmigrate cannot show RunPython: see pg_indexes instead).
# For a word found in a large share of the rows the planner still reads the
# whole table; the index pays for the usual, narrower searches.
SEARCH_TEXT = Concat(
    F("name"),
    Value(" "),
    F("aliases"),
    Value(" "),
    F("summary"),
    Value(" "),
    F("indications"),
    output_field=TextField(),
)
INDEX = GinIndex(OpClass(Upper(SEARCH_TEXT), name="gin_trgm_ops"), name="exercise_search_trgm_idx")


def postgres_only(method):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            getattr(schema_editor, method)(apps.get_model("exercises", "Exercise"), INDEX)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("exercises", "0003_search_vector"),
    ]

    operations = [
        # CREATE EXTENSION IF NOT EXISTS pg_trgm; nothing on other databases.
        # pg_trgm is a trusted extension: the database's owner may create it.
        TrigramExtension(),
        # Not in the model's Meta.indexes: SQLite has no trigram indexes, and the
        # index is an implementation detail of the PostgreSQL search.
        migrations.RunPython(postgres_only("add_index"), postgres_only("remove_index")),
    ]
