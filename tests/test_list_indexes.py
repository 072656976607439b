"""Lists a clinic sees read their rows from a clinic-scoped index, so a page costs the
same whether the installation holds one clinic or five hundred (issue: many clinics).

Each list's query is explained on the database the suite runs on. PostgreSQL is told
not to scan whole tables nor sort (``enable_seqscan``, ``enable_sort`` off): with a
handful of test rows it would rightly prefer a scan, or the clinic's foreign-key index
and a sort, and what is checked here is that an index gives the page's rows in order.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.audit import Actor, audit_record
from clinic.models import AuditEntry
from clinic.selectors import audit_entries, patient_list, with_prescription_counts
from patientpage.loop import calls_by_patient, last_activity
from patientpage.models import FollowUp, SessionLog
from prescriptions.selectors import clinic_deliveries, recent_prescriptions
from tests.factories import PatientFactory, PrescriptionFactory

pytestmark = pytest.mark.django_db


def plan(queryset, *, nested_loops: bool = True) -> str:
    """``nested_loops=False`` also keeps PostgreSQL from walking one table's few test rows
    and looking each up in another: which way it goes then depends on the statistics the
    earlier tests left, and what is checked is how the listed table's own rows are found."""
    settings = ["enable_seqscan", "enable_sort"] + ([] if nested_loops else ["enable_nestloop"])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for setting in settings:
                cursor.execute(f"SET {setting} = off")
        try:
            return queryset.explain()
        finally:
            with connection.cursor() as cursor:
                for setting in settings:
                    cursor.execute(f"RESET {setting}")
    return queryset.explain()


def plan_of_the_query(run) -> str:
    """The plan of the one query ``run()`` makes, explained as ``plan`` explains."""
    with CaptureQueriesContext(connection) as captured:
        run()
    (query,) = captured.captured_queries
    prefix = "EXPLAIN" if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET enable_seqscan = off")
        try:
            cursor.execute(f"{prefix} {query['sql']}")
            return "\n".join(str(row) for row in cursor.fetchall())
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("RESET enable_seqscan")


@pytest.fixture
def rows(clinic, other_clinic, alice, charlie, patient, issued):
    for clinic_, user in ((clinic, alice), (other_clinic, charlie)):
        for n in range(3):
            someone = PatientFactory(clinic=clinic_, last_name=f"Name{n}")
            PrescriptionFactory(patient=someone, therapist=user)
            audit_record(
                actor=Actor(user), action=AuditEntry.Action.VIEW, patient=someone, target="x"
            )
    issued.deliveries.create(recipient="jordan@patient.example")


def test_the_patient_list_reads_the_clinics_name_index(rows, alice):
    assert "patient_clinic_name_idx" in plan(patient_list(user=alice)[:25])


def test_the_dashboard_reads_the_therapists_index(rows, alice):
    assert "rx_therapist_updated_idx" in plan(recent_prescriptions(user=alice))


def test_the_email_log_reads_the_clinics_deliveries_only(rows, clinic):
    deliveries = clinic_deliveries(clinic=clinic)
    assert "delivery_clinic_created_idx" in plan(deliveries[:25])
    assert "prescriptions_prescription" not in str(deliveries.query).split("WHERE")[1]
    assert [d.clinic_id for d in deliveries] == [clinic.pk]


def test_the_audit_trail_reads_the_clinics_index(rows, clinic, patient):
    assert "audit_clinic_at_idx" in plan(audit_entries(clinic=clinic)[:50])
    assert "audit_clinic_patient_idx" in plan(audit_entries(clinic=clinic, patient=patient.pk)[:50])


def test_prescriptions_are_counted_for_the_page_only(rows, alice, django_assert_num_queries):
    page = list(patient_list(user=alice)[:2])
    with django_assert_num_queries(1):
        counted = with_prescription_counts(page)
    assert [p.prescription_count for p in counted] == [p.prescriptions.count() for p in counted]


@pytest.fixture
def calls(rows, clinic, other_clinic, patient, issued):
    for prescription in (issued, *[p for p in issued.patient.prescriptions.all()]):
        FollowUp.objects.get_or_create(
            clinic=prescription.patient.clinic,
            patient=prescription.patient,
            prescription=prescription,
            reason=FollowUp.Reason.NOTE,
        )
    SessionLog.objects.create(
        clinic=clinic,
        patient=patient,
        prescription=issued,
        client_ref="00000000-0000-4000-8000-000000000001",
        started_at=issued.created_at,
    )


def test_who_needs_a_call_reads_the_clinics_open_follow_ups(calls, clinic, alice):
    explained = plan(calls_by_patient(clinic=clinic, therapist=alice)[:12], nested_loops=False)
    assert "followup_open_idx" in explained


def test_last_activity_reads_only_the_pages_patients_sessions(calls, patient):
    # Either index on the patient will do (PostgreSQL takes the foreign key's, SQLite
    # the (patient, started_at) one): what matters is that no other rows are read.
    explained = plan_of_the_query(lambda: last_activity([patient]))
    assert "Seq Scan" not in explained and "SCAN patientpage_sessionlog" not in explained
    assert "patient_id = " in explained or "(patient_id=?)" in explained
