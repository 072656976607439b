import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clinic.colours import contrast
from clinic.models import Clinic, Membership
from prescriptions import handouts
from prescriptions.selectors import handout_snapshot, prescription_for_handout
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
        "program_link_days": 90,
        "reminder_nudge_days": 4,
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


@pytest.mark.parametrize(
    ("colour", "ratio", "shade"),
    [("#ffcc00", "1.5", "#8f7200"), ("#3cb4e6", "2.4", "#167fab"), ("#ffffff", "1.0", "#757575")],
)
def test_a_brand_colour_too_light_to_read_is_refused_with_a_darker_shade(
    admin_client, clinic, colour, ratio, shade
):
    response = admin_client.post(URL, form_data(brand_colour=colour))
    assert response.status_code == 200
    assert response.context["form"].errors["brand_colour"] == [
        f"{colour} is too light for text on white paper: its contrast is {ratio}:1 and text "
        f"needs at least 4.5:1. {shade} is the same colour, dark enough to read."
    ]
    # The suggestion is shown as a handout heading would print it, beside the saved colour.
    page = response.content.decode()
    assert f"Suggested: {shade}" in page and f"color: {shade}" in page
    assert f"Your choice, {colour}: too light to read" in page
    assert contrast(shade) >= 4.5
    clinic.refresh_from_db()
    assert clinic.brand_colour == "#0f5e6e"


def test_a_dark_enough_colour_is_saved_and_the_admin_refuses_a_light_one(admin_client, clinic):
    assert admin_client.post(URL, form_data(brand_colour="#767676")).status_code == 302
    clinic.refresh_from_db()
    assert clinic.brand_colour == "#767676"  # 4.54:1, just over
    # The model refuses too, so the Django admin (which runs its validation) does.
    clinic.brand_colour = "#777777"  # 4.48:1, just under
    with pytest.raises(ValidationError) as caught:
        clinic.full_clean()
    assert "too light for text on white paper" in str(caught.value.message_dict["brand_colour"])


def test_a_light_colour_saved_before_the_check_prints_darker(draft, clinic):
    Clinic.objects.filter(pk=clinic.pk).update(brand_colour="#ffcc00")
    snapshot = handout_snapshot(prescription_for_handout(draft.pk))
    assert snapshot["clinic"]["brand_colour"] == "#ffcc00"
    assert "--brand: #8f7200;" in handouts.render_html(snapshot, draft=True)
