"""A site operator makes a clinic and invites its first admin from the command line."""

import io

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import override_settings

from clinic.models import AuditEntry, Clinic, Invitation, Membership

pytestmark = pytest.mark.django_db


def create(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("clinic_create", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@override_settings(SITE_URL="https://hep.example.org")
def test_a_new_clinic_and_its_first_admin_who_accepts(client):
    out, _ = create("--name", "  Northside   Physio ", "--admin-email", "Owner@Northside.example")
    clinic = Clinic.objects.get()
    assert (clinic.name, clinic.slug) == ("Northside Physio", "northside-physio")
    assert "Invited owner@northside.example as clinic admin." in out
    invitation = Invitation.objects.get()
    assert (invitation.clinic, invitation.role) == (clinic, Membership.Role.ADMIN)
    # The email carries the one-time link; following it makes the admin.
    (message,) = mail.outbox
    assert message.to == ["owner@northside.example"]
    link = next(w for w in message.body.split() if w.startswith("https://hep.example.org/"))
    # The link moves its token into the session, then the form is filled in.
    accept = client.get(link.removeprefix("https://hep.example.org"))["Location"]
    response = client.post(
        accept,
        {
            "first_name": "Olive",
            "last_name": "Owner",
            "password1": "a-long-password-42",
            "password2": "a-long-password-42",
        },
    )
    assert response.status_code == 302
    membership = Membership.objects.get(clinic=clinic)
    assert membership.is_admin and membership.user.email == "owner@northside.example"
    # The clinic's trail names the command as who made it and invited the admin.
    trail = list(AuditEntry.objects.filter(clinic=clinic).order_by("pk"))
    assert [(e.actor_email, e.detail) for e in trail[:2]] == [
        ("manage.py clinic_create", "Clinic created"),
        ("manage.py clinic_create", "Invited owner@northside.example as clinic admin"),
    ]
    assert trail[0].actor is None


@override_settings(SITE_URL="https://hep.example.org")
def test_a_second_clinic_of_the_same_name_gets_its_own_slug():
    create("--name", "Northside Physio", "--admin-email", "a@one.example")
    create("--name", "Northside Physio", "--admin-email", "b@two.example")
    assert sorted(Clinic.objects.values_list("slug", flat=True)) == [
        "northside-physio",
        "northside-physio-2",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", " ", "--admin-email", "a@b.example"], "Give the clinic a name."),
        (["--name", "X", "--admin-email", "not-an-email"], "email: Enter a valid email address."),
    ],
)
@override_settings(SITE_URL="https://hep.example.org")
def test_bad_input_is_refused_and_nothing_is_made(args, message):
    with pytest.raises(CommandError, match=message):
        create(*args)
    assert not Clinic.objects.exists() and not Invitation.objects.exists()


def test_without_site_url_there_is_no_link_to_send():
    with pytest.raises(CommandError, match="Set SITE_URL"):
        create("--name", "X", "--admin-email", "a@b.example")
    assert not Clinic.objects.exists()


@override_settings(
    SITE_URL="https://hep.example.org",
    MAILERS={"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                         "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2}}},
)  # fmt: skip
def test_when_email_fails_the_operator_gets_the_link():
    out, err = create("--name", "X", "--admin-email", "a@b.example")
    assert "could not be sent" in err and "https://hep.example.org/" in err
    assert Invitation.objects.get().email == "a@b.example"
