import datetime

import pytest
from django.urls import reverse

from clinic import services
from clinic.audit import Actor
from clinic.models import AuditEntry, Patient
from tests.factories import PASSWORD, PatientFactory


def test_login_with_email_and_logout(client, alice):
    response = client.post(
        reverse("login"), {"username": "alice@clinic.example", "password": PASSWORD}
    )
    assert response.status_code == 302 and response.url == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("dashboard")).status_code == 302


def test_wrong_password_shows_an_error(client, alice):
    response = client.post(
        reverse("login"), {"username": "alice@clinic.example", "password": "nope"}
    )
    assert response.status_code == 200
    assert "correct email" in response.content.decode().lower()


def test_anonymous_is_sent_to_login(client, patient):
    response = client.get(reverse("patients:detail", args=[patient.pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_user_without_a_clinic_is_forbidden(client, django_user_model):
    user = django_user_model.objects.create_user("curator@site.example", PASSWORD)
    client.force_login(user)
    assert client.get(reverse("patients:list")).status_code == 403


def test_patient_list_shows_only_own_clinic(client, alice, patient, other_clinic):
    PatientFactory(clinic=other_clinic, first_name="Zed", last_name="Outsider")
    client.force_login(alice)
    page = client.get(reverse("patients:list")).content.decode()
    assert "Ellis" in page
    assert "Outsider" not in page


def test_patient_search_by_name_email_and_phone(alice_client, clinic):
    PatientFactory(clinic=clinic, first_name="Maggie", last_name="OBrien", phone="0400 111 222")
    PatientFactory(clinic=clinic, first_name="Tom", last_name="Becker", email="tb@patient.example")
    for query, expected, unexpected in [
        ("maggie", "OBrien", "Becker"),
        ("tb@patient", "Becker", "OBrien"),
        ("111 222", "OBrien", "Becker"),
    ]:
        page = alice_client.post(reverse("patients:list"), {"q": query}).content.decode()
        assert expected in page and unexpected not in page, query


def test_patient_search_words_never_go_in_the_url(alice_client, clinic):
    """Names typed in the search box would end up in access logs and browser history."""
    page = " ".join(alice_client.get(reverse("patients:list")).content.decode().split())
    assert 'method="post" action="/patients/" id="patient-search"' in page
    # A name in the query string is not searched either (no link can carry one).
    PatientFactory(clinic=clinic, last_name="Becker")
    PatientFactory(clinic=clinic, last_name="OBrien")
    page = alice_client.get(reverse("patients:list"), {"q": "Becker"}).content.decode()
    assert "OBrien" in page


def test_search_results_page_by_posting_again(alice_client, clinic):
    PatientFactory.create_batch(30, clinic=clinic, last_name="Nguyen")
    page = " ".join(
        alice_client.post(reverse("patients:list"), {"q": "nguyen"}).content.decode().split()
    )
    assert "Page 1 of 2" in page
    assert 'form="patient-search" name="page" value="2"' in page
    page = alice_client.post(reverse("patients:list"), {"q": "nguyen", "page": "2"})
    assert "Page 2 of 2" in page.content.decode()


def test_archived_patients_are_hidden_unless_asked_for(alice_client, clinic):
    PatientFactory(clinic=clinic, last_name="Gone", archived=True)
    assert "Gone" not in alice_client.get(reverse("patients:list")).content.decode()
    assert "Gone" in alice_client.get(reverse("patients:list"), {"archived": "1"}).content.decode()


def test_create_patient_records_consent(alice_client, alice, clinic):
    response = alice_client.post(
        reverse("patients:create"),
        {
            "first_name": "Priya",
            "last_name": "Raman",
            "email": "priya@patient.example",
            "email_consent": "on",
            "date_of_birth": "1990-02-03",
        },
    )
    patient = Patient.objects.get(last_name="Raman")
    assert response.status_code == 302 and response.url == patient.get_absolute_url()
    assert patient.clinic == clinic and patient.created_by == alice
    assert patient.email_consent_by == alice and patient.email_consent_at is not None


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth", "future"),
        ({"date_of_birth": "31/02/1990"}, "date_of_birth", "valid date"),
        ({"email": "", "email_consent": "on"}, "email", "email address to send"),
        ({"first_name": ""}, "first_name", "required"),
    ],
)
def test_bad_patient_input_gets_a_clear_message(alice_client, data, field, message):
    payload = {"first_name": "Ann", "last_name": "Lee", **data}
    response = alice_client.post(reverse("patients:create"), payload)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field]).lower()
    assert not Patient.objects.filter(last_name="Lee").exists()


def test_html_in_patient_name_is_shown_as_text(alice_client, clinic):
    patient = PatientFactory(clinic=clinic, first_name="<script>alert(1)</script>", last_name="X")
    page = alice_client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_edit_patient_and_withdraw_consent(alice_client, patient):
    response = alice_client.post(
        reverse("patients:edit", args=[patient.pk]),
        {
            "first_name": "Jordan",
            "last_name": "Ellis-Smith",
            "email": "jordan@patient.example",
            "date_of_birth": datetime.date(1980, 1, 1).isoformat(),
        },
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.last_name == "Ellis-Smith"
    assert patient.email_consent is False and patient.email_consent_at is None


def test_a_new_email_address_needs_consent_asked_again(alice_client, alice, patient):
    Patient.objects.filter(pk=patient.pk).update(email_consent=False)
    patient.refresh_from_db()
    services.patient_record_consent(patient=patient, actor=Actor(alice))
    data = {
        "first_name": "Jordan",
        "last_name": "Ellis",
        "email": "jordan@patient.example",
        "email_consent": "on",
    }
    # Another change, or the same address in other capitals: consent stays.
    for email in ("jordan@patient.example", "Jordan@Patient.example"):
        alice_client.post(
            reverse("patients:edit", args=[patient.pk]),
            {**data, "email": email, "phone": "0400 000 000"},
        )
        patient.refresh_from_db()
        assert patient.email_consent and patient.email_consent_by == alice
    # A new address: the consent given for the old one does not carry over, even with
    # the box left ticked as the form showed it.
    response = alice_client.post(
        reverse("patients:edit", args=[patient.pk]),
        {**data, "email": "jordan.ellis@new-mail.example"},
        follow=True,
    )
    patient.refresh_from_db()
    assert patient.email == "jordan.ellis@new-mail.example"
    assert not patient.email_consent
    assert patient.email_consent_at is None and patient.email_consent_by is None
    page = response.content.decode()
    assert "The email address changed, so consent to email handouts was cleared" in page
    entry = AuditEntry.objects.filter(patient=patient, action="change").latest("pk")
    assert "consent to email handouts cleared" in entry.detail
    # Consent for the new address is recorded afresh, by whoever asks.
    services.patient_record_consent(patient=patient, actor=Actor(alice))
    patient.refresh_from_db()
    assert patient.email_consent and patient.email_consent_at is not None


def test_colleague_sees_and_edits_the_same_patient(client, bob, patient):
    client.force_login(bob)
    assert client.get(reverse("patients:detail", args=[patient.pk])).status_code == 200
    assert client.get(reverse("patients:edit", args=[patient.pk])).status_code == 200


def test_other_clinic_gets_404_on_patient_pages(client, charlie, patient):
    client.force_login(charlie)
    for name in ("patients:detail", "patients:edit"):
        assert client.get(reverse(name, args=[patient.pk])).status_code == 404
    response = client.post(
        reverse("patients:edit", args=[patient.pk]), {"first_name": "Hacked", "last_name": "X"}
    )
    assert response.status_code == 404
    patient.refresh_from_db()
    assert patient.first_name == "Jordan"


def test_same_name_and_birth_date_asks_before_adding(alice_client, patient):
    patient.date_of_birth = datetime.date(1984, 3, 12)
    patient.save()
    data = {"first_name": "jordan", "last_name": "ELLIS", "date_of_birth": "1984-03-12"}
    response = alice_client.post(reverse("patients:create"), data)
    assert response.status_code == 200
    assert "Jordan Ellis, born 12 March 2024" not in response.content.decode()
    assert "is already a patient of your clinic" in response.content.decode()
    assert Patient.objects.count() == 1
    response = alice_client.post(reverse("patients:create"), {**data, "confirm_duplicate": "on"})
    assert response.status_code == 302 and Patient.objects.count() == 2


def test_same_name_in_another_clinic_is_not_a_duplicate(client, charlie, patient):
    patient.date_of_birth = datetime.date(1984, 3, 12)
    patient.save()
    client.force_login(charlie)
    data = {"first_name": "Jordan", "last_name": "Ellis", "date_of_birth": "1984-03-12"}
    assert client.post(reverse("patients:create"), data).status_code == 302


def test_archive_and_restore(alice_client, patient):
    url = reverse("patients:archive", args=[patient.pk])
    alice_client.post(url, {"archived": "1"}, follow=True)
    patient.refresh_from_db()
    assert patient.archived
    assert "Ellis" not in alice_client.get(reverse("patients:list")).content.decode()
    alice_client.post(url, {"archived": "0"})
    patient.refresh_from_db()
    assert not patient.archived


def test_patient_list_pages(alice_client, clinic):
    PatientFactory.create_batch(30, clinic=clinic)
    page = alice_client.get(reverse("patients:list")).content.decode()
    assert "Page 1 of 2" in page
    assert "Page 2 of 2" in alice_client.get(reverse("patients:list"), {"page": 2}).content.decode()


@pytest.mark.parametrize(
    "words", ["Jor\x00dan", "x" * 5000, "\x00"], ids=["nul", "long", "only-nul"]
)
def test_a_bad_search_is_a_message_not_a_500(alice_client, patient, words):
    response = alice_client.post(reverse("patients:list"), {"q": words})
    assert response.status_code == 200
    assert 'class="invalid-feedback"' in response.content.decode()


@pytest.mark.parametrize("page", ["380000000000000000000", "\x00", "-1", "abc"])
def test_any_page_number_shows_a_page(alice_client, patient, page):
    response = alice_client.post(reverse("patients:list"), {"q": "", "page": page})
    assert response.status_code == 200
    assert patient.last_name in response.content.decode()


def test_the_record_says_when_a_handout_is_not_drawn_yet(alice_client, issued, patient):
    from prescriptions.models import Handout

    url = reverse("patients:detail", args=[patient.pk])
    handout_url = reverse("prescriptions:handout", args=[issued.pk])
    assert handout_url in alice_client.get(url).content.decode()
    Handout.objects.filter(pk=issued.handout.pk).update(status=Handout.Status.PREPARING)
    page = alice_client.get(url).content.decode()
    assert "Preparing handout…" in page and handout_url not in page
    Handout.objects.filter(pk=issued.handout.pk).update(status=Handout.Status.FAILED)
    assert "Handout failed: see the program" in alice_client.get(url).content.decode()
