"""Clinic admins manage their staff: invitations by email with a one-time link,
roles, deactivation. Therapists cannot."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from clinic.models import Invitation, Membership, User
from tests.factories import MembershipFactory


@pytest.fixture
def admin(clinic):
    return MembershipFactory(
        clinic=clinic, role=Membership.Role.ADMIN, user__email="admin@clinic.example"
    ).user


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def invite(client, email="new.therapist@clinic.example", role="therapist"):
    return client.post(reverse("staff"), {"email": email, "role": role, "title": "Physio"})


def link_in(message) -> str:
    return re.search(r"https?://\S+/accounts/invitation/\S+/", message.body).group(0)


def test_therapists_cannot_manage_staff(alice_client, alice, bob):
    assert alice_client.get(reverse("staff")).status_code == 403
    assert invite(alice_client).status_code == 403
    response = alice_client.post(reverse("member_action", args=[bob.membership.pk]), {})
    assert response.status_code == 403
    bob.refresh_from_db()
    assert bob.is_active and not Invitation.objects.exists()


def test_admin_sees_the_staff_list(admin_client, alice, bob, charlie):
    page = admin_client.get(reverse("staff")).content.decode()
    assert alice.email in page and bob.email in page
    assert charlie.email not in page


def test_invitation_email_link_creates_the_account_once(admin_client, client, clinic):
    response = invite(admin_client)
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["new.therapist@clinic.example"]
    assert clinic.name in message.subject
    link = link_in(message)
    token = link.rstrip("/").rsplit("/", 1)[1]
    invitation = Invitation.objects.get()
    # Only a hash of the token is stored.
    assert token not in invitation.token_hash and invitation.token_hash == Invitation.hash_token(
        token
    )

    client.logout()
    path = link.split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + path)
    assert page.status_code == 200 and clinic.name in page.content.decode()
    response = client.post(
        "/" + path,
        {
            "first_name": "Nia",
            "last_name": "Okafor",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
        },
    )
    assert response.status_code == 302 and response.url == reverse("dashboard")
    user = User.objects.get(email="new.therapist@clinic.example")
    assert user.membership.clinic == clinic
    assert user.membership.role == Membership.Role.THERAPIST
    assert user.membership.title == "Physio"
    assert user.check_password("a-long-enough-passphrase")
    assert client.get(reverse("dashboard")).status_code == 200  # Signed in.

    # The link is spent.
    client.logout()
    assert client.get("/" + path).status_code == 404
    assert "already been used" in client.get("/" + path).content.decode()


def test_weak_password_and_mismatch_are_form_errors(admin_client, client):
    invite(admin_client)
    path = "/" + link_in(mail.outbox[0]).split("://", 1)[1].split("/", 1)[1]
    client.logout()
    response = client.post(
        path, {"first_name": "N", "last_name": "O", "password1": "123", "password2": "123"}
    )
    assert response.status_code == 200
    assert "too short" in response.content.decode()
    response = client.post(
        path,
        {
            "first_name": "N",
            "last_name": "O",
            "password1": "a-long-enough-passphrase",
            "password2": "another-long-passphrase",
        },
    )
    assert "didn’t match" in response.content.decode()
    assert not User.objects.filter(email="new.therapist@clinic.example").exists()


def test_expired_and_cancelled_links_do_not_work(admin_client, client):
    invite(admin_client)
    invitation = Invitation.objects.get()
    path = "/" + link_in(mail.outbox[0]).split("://", 1)[1].split("/", 1)[1]
    client.logout()
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(path).status_code == 404
    Invitation.objects.update(expires_at=timezone.now() + timedelta(days=1))
    assert client.get(path).status_code == 200
    admin_client.force_login(invitation.clinic.memberships.get(role="admin").user)
    admin_client.post(reverse("invitation_action", args=[invitation.pk]), {"cancel": "1"})
    client.logout()
    assert client.get(path).status_code == 404
    assert client.get("/accounts/invitation/made-up-token/").status_code == 404


def test_sending_again_replaces_the_link(admin_client, client):
    invite(admin_client)
    invitation = Invitation.objects.get()
    old = "/" + link_in(mail.outbox[0]).split("://", 1)[1].split("/", 1)[1]
    admin_client.post(reverse("invitation_action", args=[invitation.pk]), {"resend": "1"})
    new = "/" + link_in(mail.outbox[1]).split("://", 1)[1].split("/", 1)[1]
    client.logout()
    assert old != new
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_an_existing_account_cannot_be_invited(admin_client, charlie):
    response = invite(admin_client, email=charlie.email.upper())
    assert response.status_code == 200
    assert "already has an OpenHEP account" in response.content.decode()
    assert not Invitation.objects.exists() and not mail.outbox


def test_mail_server_down_is_reported_not_a_500(admin_client, settings):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
        }
    }
    response = invite(admin_client)
    assert response.status_code == 302
    page = admin_client.get(reverse("staff")).content.decode()
    assert "could not be sent" in page and "Send again" in page
    assert Invitation.objects.get().email == "new.therapist@clinic.example"


def test_invited_admin_of_a_clinic_that_requires_two_factor_sets_it_up(
    admin_client, client, clinic
):
    invite(admin_client, email="second.admin@clinic.example", role="admin")
    clinic.require_two_factor = True
    clinic.save()
    path = "/" + link_in(mail.outbox[0]).split("://", 1)[1].split("/", 1)[1]
    client.logout()
    client.post(
        path,
        {
            "first_name": "Sam",
            "last_name": "Lee",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
        },
    )
    response = client.get(reverse("patients:list"))
    assert response.status_code == 302 and response.url.startswith(reverse("two_factor_setup"))


def test_deactivated_member_is_signed_out_and_cannot_sign_in(admin_client, client, bob):
    from django.test import Client

    bobs_browser = Client()
    bobs_browser.force_login(bob)
    assert bobs_browser.get(reverse("patients:list")).status_code == 200
    admin_client.post(reverse("member_action", args=[bob.membership.pk]), {"active": "0"})
    bob.refresh_from_db()
    assert not bob.is_active
    response = bobs_browser.get(reverse("patients:list"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    response = Client().post(
        reverse("login"), {"username": bob.email, "password": "correct-horse-battery"}
    )
    assert response.status_code == 200  # The form again, not a redirect into the app.
    # Reactivated, they can sign in again and their work is where they left it.
    admin_client.post(reverse("member_action", args=[bob.membership.pk]), {"active": "1"})
    bob.refresh_from_db()
    assert bob.is_active


def test_the_last_admin_cannot_be_demoted_or_deactivated(admin_client, admin, clinic):
    other_admin = MembershipFactory(clinic=clinic, role=Membership.Role.ADMIN)
    admin_client.post(
        reverse("member_action", args=[other_admin.pk]), {"role": Membership.Role.THERAPIST}
    )
    other_admin.refresh_from_db()
    assert other_admin.role == Membership.Role.THERAPIST  # Allowed: admin remains.
    response = admin_client.post(
        reverse("member_action", args=[admin.membership.pk]), {"role": "therapist"}, follow=True
    )
    assert "at least one active admin" in response.content.decode()
    admin.membership.refresh_from_db()
    assert admin.membership.is_admin
    response = admin_client.post(
        reverse("member_action", args=[admin.membership.pk]), {"active": "0"}, follow=True
    )
    assert "cannot deactivate your own account" in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_active


def test_admin_promotes_a_therapist(admin_client, bob):
    admin_client.post(reverse("member_action", args=[bob.membership.pk]), {"role": "admin"})
    bob.membership.refresh_from_db()
    assert bob.membership.is_admin
    response = admin_client.post(
        reverse("member_action", args=[bob.membership.pk]), {"role": "owner"}, follow=True
    )
    assert "Choose a role" in response.content.decode()
