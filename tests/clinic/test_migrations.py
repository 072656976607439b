"""Data migrations, run against rows written by the models as they were before."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = ("clinic", "0006_audit_clinic_events")
CASE_INSENSITIVE = ("clinic", "0007_email_case_insensitive")


def migrate(target):
    """Migrate the test database to ``target``; the apps (models) as they are there."""
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    return MigrationExecutor(connection).loader.project_state([target]).apps


@pytest.fixture
def at_0006(transactional_db):
    """The database as it was before e-mail addresses became case-insensitive; brought
    forward again afterwards so the next test finds the current schema."""
    apps = migrate(BEFORE)
    yield apps
    apps.get_model("clinic", "User").objects.all().delete()
    migrate_to_latest()


def migrate_to_latest():
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_existing_mixed_case_addresses_are_lower_cased(at_0006):
    User = at_0006.get_model("clinic", "User")
    mixed = User.objects.create(email="Mixed.Case@Clinic.Example", password="!")
    plain = User.objects.create(email="plain@clinic.example", password="!")
    migrate(CASE_INSENSITIVE)
    from clinic.models import User as Current

    assert Current.objects.get(pk=mixed.pk).email == "mixed.case@clinic.example"
    assert Current.objects.get(pk=plain.pk).email == "plain@clinic.example"
    assert Current.objects.get_by_natural_key("MIXED.case@clinic.example").pk == mixed.pk


def test_addresses_differing_only_in_case_stop_the_migration_and_are_named(at_0006):
    User = at_0006.get_model("clinic", "User")
    first = User.objects.create(email="sam@clinic.example", password="!")
    second = User.objects.create(email="Sam@Clinic.example", password="!")
    User.objects.create(email="Other@clinic.example", password="!")
    with pytest.raises(Exception, match="differ only in case") as refused:
        migrate(CASE_INSENSITIVE)
    assert f"user ids {first.pk}, {second.pk}." in str(refused.value)
    assert str(refused.value).count("user ids") == 1  # Not the account without a twin.
    # Nothing was merged or changed.
    apps = MigrationExecutor(connection).loader.project_state([BEFORE]).apps
    emails = set(apps.get_model("clinic", "User").objects.values_list("email", flat=True))
    assert emails == {"sam@clinic.example", "Sam@Clinic.example", "Other@clinic.example"}
    # Once the operator gives one of them another address, the migration runs.
    User.objects.filter(pk=second.pk).update(email="sam.two@clinic.example")
    migrate(CASE_INSENSITIVE)
