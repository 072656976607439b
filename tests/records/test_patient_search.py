"""The patient list: search by name as it sounds, by birth date, by phone; what each
row shows; and the new-patient form asking about a likely duplicate."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.models import Patient
from prescriptions.models import Prescription
from records.selectors import (
    Activity,
    national_number,
    patient_search,
    typed_date,
    with_list_details,
)
from tests.factories import PatientFactory, PrescriptionFactory
from tests.patientpage.helpers import log
from tests.test_list_indexes import plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(clinic, other_clinic):
    PatientFactory(
        clinic=clinic,
        first_name="Maggie",
        last_name="O'Brien",
        date_of_birth=datetime.date(1980, 4, 3),
        phone="+61 400 111 222",
    )
    PatientFactory(
        clinic=clinic,
        first_name="José",
        last_name="Van der Berg",
        date_of_birth=datetime.date(1975, 12, 1),
        phone="(03) 9123 4567",
    )
    PatientFactory(
        clinic=clinic,
        first_name="Tom",
        last_name="Smith-Jones",
        date_of_birth=datetime.date(1980, 3, 4),
        phone="0412 345 678",
    )
    # Another clinic's patient with the same name, birth date and phone: never found.
    PatientFactory(
        clinic=other_clinic,
        first_name="Maggie",
        last_name="O'Brien",
        date_of_birth=datetime.date(1980, 4, 3),
        phone="0400 111 222",
    )


def surnames(user, query: str) -> list[str]:
    return [p.last_name for p in patient_search(user=user, query=query)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("obrien", ["O'Brien"]),
        ("OBRIEN", ["O'Brien"]),
        ("o'brien", ["O'Brien"]),
        ("O’Brien", ["O'Brien"]),  # a typographic apostrophe
        ("maggie obrien", ["O'Brien"]),
        ("vanderberg", ["Van der Berg"]),
        ("van der", ["Van der Berg"]),
        ("smithjones", ["Smith-Jones"]),
        ("jose", ["Van der Berg"]),  # accents ignored
        ("José", ["Van der Berg"]),
    ],
)
def test_names_are_found_without_punctuation_spaces_or_accents(alice, people, query, expected):
    assert surnames(alice, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("3/4/1980", ["O'Brien"]),  # day first: 3 April
        ("03/04/1980", ["O'Brien"]),
        ("03.04.1980", ["O'Brien"]),
        ("3-4-1980", ["O'Brien"]),
        ("1980-04-03", ["O'Brien"]),
        ("3/4/80", ["O'Brien"]),
        ("4/3/1980", ["Smith-Jones"]),
        ("1/12/1975", ["Van der Berg"]),
        ("maggie 3/4/1980", ["O'Brien"]),
        ("tom 3/4/1980", []),
        ("1980", ["O'Brien", "Smith-Jones"]),  # a birth year
        ("tom 1980", ["Smith-Jones"]),
        ("1975 jose", ["Van der Berg"]),
        ("31/2/1980", []),  # no such day: searched as text, finds nothing
    ],
)
def test_birth_dates_are_found_as_the_clinic_types_them(alice, people, query, expected):
    assert surnames(alice, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("0400111222", ["O'Brien"]),  # stored as +61 400 111 222
        ("0400 111 222", ["O'Brien"]),
        ("+61 400 111 222", ["O'Brien"]),
        ("+61400111222", ["O'Brien"]),
        ("111 222", ["O'Brien"]),
        ("0412345678", ["Smith-Jones"]),
        ("+61 412 345 678", ["Smith-Jones"]),
        ("9123 4567", ["Van der Berg"]),
        ("(03) 9123-4567", ["Van der Berg"]),
    ],
)
def test_phone_numbers_are_found_whatever_their_spacing_or_prefix(alice, people, query, expected):
    assert surnames(alice, query) == expected


def test_the_readers():
    assert typed_date("3/4/1980") == datetime.date(1980, 4, 3)
    assert typed_date("1980-04-03") == datetime.date(1980, 4, 3)
    this_year = timezone.localdate().year % 100
    assert typed_date(f"1/1/{this_year:02d}").year == timezone.localdate().year
    assert typed_date(f"1/1/{(this_year + 1) % 100:02d}").year <= timezone.localdate().year
    assert typed_date("obrien") is None
    # Day first with a hyphen and a two-digit year, as the docstring promises.
    assert typed_date("3-4-80") == datetime.date(1980, 4, 3)
    # A four-digit year in the future is a typo shown as typed, not moved to 1930.
    assert typed_date("03/04/2030") == datetime.date(2030, 4, 3)
    assert national_number("61400111222") == "400111222"
    assert national_number("0400111222") == "400111222"
    assert national_number("0061400111222") == "400111222"
    assert national_number("611") == "611"


def test_search_stays_in_the_clinic(charlie, people):
    assert surnames(charlie, "obrien") == ["O'Brien"]
    (found,) = patient_search(user=charlie, query="3/4/1980")
    assert found.clinic == charlie.membership.clinic and found.phone == "0400 111 222"


def test_the_list_page_finds_by_birth_date_and_shows_it(alice_client, people):
    page = alice_client.post(reverse("patients:list"), {"q": "3/4/1980"}).content.decode()
    assert "O&#x27;Brien, Maggie" in page
    assert "Smith-Jones" not in page
    assert '<time datetime="1980-04-03">3 Apr 1980</time>' in page


def test_each_row_says_what_happened_last(clinic, alice, people):
    obrien, smith, vdb = Patient.objects.filter(clinic=clinic).order_by("last_name")
    issued = PrescriptionFactory(patient=obrien, therapist=alice)
    Prescription.objects.filter(pk=issued.pk).update(status="issued", issued_at=timezone.now())
    draft = PrescriptionFactory(patient=vdb, therapist=alice)
    # Smith-Jones's program was changed a week ago; they logged a session yesterday.
    old = PrescriptionFactory(patient=smith, therapist=alice)
    week_ago = timezone.now() - datetime.timedelta(days=7)
    Prescription.objects.filter(pk=old.pk).update(updated_at=week_ago)
    yesterday = log(old, timezone.localdate() - datetime.timedelta(days=1))
    rows = {p.last_name: p for p in with_list_details(Patient.objects.filter(clinic=clinic))}
    assert rows["O'Brien"].activity.what == "Program issued"
    assert rows["Van der Berg"].activity == Activity(draft.updated_at, "Program changed")
    assert rows["Smith-Jones"].activity == Activity(yesterday.started_at, "Session logged")
    assert [rows[name].prescription_count for name in sorted(rows)] == [1, 1, 1]
    assert with_list_details([PatientFactory(clinic=clinic)])[0].activity is None


def test_the_list_details_take_two_queries_for_any_page(
    clinic, alice, people, django_assert_num_queries
):
    for n in range(6):
        PrescriptionFactory(patient=PatientFactory(clinic=clinic, last_name=f"More{n}"))
    for size in (2, 9):
        page = list(Patient.objects.filter(clinic=clinic)[:size])
        with django_assert_num_queries(2):
            with_list_details(page)


# The new-patient form asks about a likely duplicate; it never refuses.


def test_same_name_without_birth_date_asks_then_adds(alice_client, patient):
    data = {"first_name": "Jordan", "last_name": "ellis"}
    response = alice_client.post(reverse("patients:create"), data)
    assert response.status_code == 200
    text = " ".join(response.content.decode().split())
    assert "is already a patient of your clinic" in text
    assert "add the birth date" in text
    assert "This is a different person with the same name </label>" in text
    assert "same name and date of birth" not in text
    assert f'href="{patient.get_absolute_url()}"' in text
    assert Patient.objects.count() == 1
    response = alice_client.post(reverse("patients:create"), {**data, "confirm_duplicate": "on"})
    assert response.status_code == 302 and Patient.objects.count() == 2


def test_a_name_written_another_way_is_the_same_name(alice_client, clinic):
    PatientFactory(clinic=clinic, first_name="José", last_name="O'Brien-Smith")
    data = {"first_name": "jose", "last_name": "OBrien Smith"}
    response = alice_client.post(reverse("patients:create"), data)
    assert (
        "José O&#x27;Brien-Smith (no birth date recorded) is already" in response.content.decode()
    )


def test_a_birth_date_for_a_namesake_without_one_asks(alice_client, patient):
    assert patient.date_of_birth is None
    data = {"first_name": "Jordan", "last_name": "Ellis", "date_of_birth": "1990-01-01"}
    response = alice_client.post(reverse("patients:create"), data)
    assert "(no birth date recorded) is already a patient" in response.content.decode()


def test_a_different_birth_date_is_a_different_person(alice_client, patient):
    Patient.objects.filter(pk=patient.pk).update(date_of_birth=datetime.date(1984, 3, 12))
    data = {"first_name": "Jordan", "last_name": "Ellis", "date_of_birth": "1990-01-01"}
    assert alice_client.post(reverse("patients:create"), data).status_code == 302


def test_saving_a_record_does_not_ask_again(alice_client, clinic, patient):
    PatientFactory(clinic=clinic, first_name="Jordan", last_name="Ellis")
    data = {"first_name": "Jordan", "last_name": "Ellis", "phone": "0400 000 000"}
    response = alice_client.post(reverse("patients:edit", args=[patient.pk]), data)
    assert response.status_code == 302


def test_a_name_alone_in_another_clinic_is_not_a_duplicate(client, charlie, patient):
    client.force_login(charlie)
    data = {"first_name": "Jordan", "last_name": "Ellis"}
    assert client.post(reverse("patients:create"), data).status_code == 302


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    query=st.text(
        st.one_of(
            st.sampled_from(list("0123456789 +-()./'’éÉ")),
            st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
        ),
        max_size=30,
    )
)
def test_any_text_is_a_patient_search_not_an_error(alice, people, query):
    found = list(patient_search(user=alice, query=query))
    assert all(patient.clinic_id == alice.membership.clinic_id for patient in found)


def test_a_search_reads_the_clinics_name_index(alice, people, charlie):
    # As the list without words: the clinic's patients in name order from its index,
    # whatever the words test (on PostgreSQL with scans and sorts ruled out, as in
    # tests/test_list_indexes.py).
    for query in ("obrien", "3/4/1980", "0400 111 222", "jose 1975-12-01"):
        assert "patient_clinic_name_idx" in plan(patient_search(user=alice, query=query)[:25])


def test_activity_is_each_programs_own_time(clinic, alice, people):
    """A draft saved seconds after another program's issue is "changed", not "issued";
    an issued program replaced later is still its issue, not a change."""
    obrien, smith, _ = Patient.objects.filter(clinic=clinic).order_by("last_name")
    now = timezone.now()
    issued = PrescriptionFactory(patient=obrien, therapist=alice)
    Prescription.objects.filter(pk=issued.pk).update(status="issued", issued_at=now)
    draft = PrescriptionFactory(patient=obrien, therapist=alice)
    Prescription.objects.filter(pk=draft.pk).update(updated_at=now + datetime.timedelta(seconds=20))
    old = PrescriptionFactory(patient=smith, therapist=alice)
    Prescription.objects.filter(pk=old.pk).update(
        status="superseded",
        issued_at=now - datetime.timedelta(days=9),
        updated_at=now - datetime.timedelta(days=2),
    )
    rows = {p.last_name: p for p in with_list_details(Patient.objects.filter(clinic=clinic))}
    assert rows["O'Brien"].activity == Activity(
        now + datetime.timedelta(seconds=20), "Program changed"
    )
    assert rows["Smith-Jones"].activity == Activity(
        now - datetime.timedelta(days=9), "Program issued"
    )
