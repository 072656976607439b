import pytest
from django.urls import reverse

from clinic.models import Membership
from tests.clinic.test_images import picture

URL = "/clinic/settings/"


@pytest.fixture
def admin_client(client, alice):
    Membership.objects.filter(user=alice).update(role="admin")
    client.force_login(alice)
    return client


def form_data(**changes):
    return {
        "name": "Northside Myotherapy",
        "paper_size": "A4",
        "brand_colour": "#224466",
        "handout_footer": "Call us if pain increases.",
        "email_subject": "Your program from {clinic}",
        "email_message": "Here it is.",
        **changes,
    }


def test_clinic_admin_sets_branding_and_logo(admin_client, clinic):
    response = admin_client.post(URL, form_data(logo=picture("PNG", size=(3000, 1000))))
    assert response.status_code == 302
    clinic.refresh_from_db()
    assert clinic.brand_colour == "#224466" and clinic.logo.name.endswith(".png")
    assert clinic.logo.width == 1600


def test_a_renamed_svg_logo_is_refused(admin_client, clinic):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("logo.png", b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    response = admin_client.post(URL, form_data(logo=fake))
    assert response.status_code == 200
    assert "Upload a valid image" in " ".join(response.context["form"].errors["logo"])
    clinic.refresh_from_db()
    assert not clinic.logo


@pytest.mark.parametrize(
    ("field", "value"), [("brand_colour", "red"), ("website", "javascript:alert(1)")]
)
def test_bad_settings_get_clear_messages(admin_client, clinic, field, value):
    response = admin_client.post(URL, form_data(**{field: value}))
    assert response.status_code == 200
    assert response.context["form"].errors[field]


def test_newlines_in_the_clinic_name_are_folded(admin_client, clinic):
    admin_client.post(URL, form_data(name="Evil\r\nBcc: x@evil.example"))
    clinic.refresh_from_db()
    assert clinic.name == "Evil Bcc: x@evil.example"


def test_therapists_cannot_change_clinic_settings(client, alice, clinic):
    client.force_login(alice)
    assert client.get(URL).status_code == 403
    assert client.post(URL, form_data(name="Hijacked")).status_code == 403
    clinic.refresh_from_db()
    assert clinic.name == "Northside Myotherapy"


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(URL)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_admin_of_another_clinic_changes_only_their_own(client, charlie, clinic, other_clinic):
    Membership.objects.filter(user=charlie).update(role="admin")
    client.force_login(charlie)
    client.post(URL, form_data(name="Charlie's clinic"))
    clinic.refresh_from_db()
    other_clinic.refresh_from_db()
    assert clinic.name == "Northside Myotherapy" and other_clinic.name == "Charlie's clinic"


def test_email_wording_and_reply_to_are_clinic_settings(admin_client, clinic):
    page = admin_client.get(URL).content.decode()
    for field in ("reply_to", "email_subject", "email_message"):
        assert f'name="{field}"' in page
    admin_client.post(
        URL,
        form_data(
            reply_to="team@northside.example",
            email_subject="Hi {patient}\nBcc: x@evil.example",
            email_message="Your {program} is attached.",
        ),
    )
    clinic.refresh_from_db()
    assert clinic.reply_to == "team@northside.example"
    assert clinic.email_subject == "Hi {patient} Bcc: x@evil.example"
    assert clinic.email_message == "Your {program} is attached."
