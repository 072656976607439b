"""Clinic admins manage their staff: invitations by email with a one-time link,
roles, deactivation. Therapists cannot."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic.audit import Actor
from clinic.models import AuditEntry, Invitation, Membership, User
from tests.factories import MembershipFactory
from tests.helpers import emailed_path

ACCEPT = "/accounts/invitation/accept/"


def invite(client, email="new.therapist@clinic.example", role="therapist", **more):
    return client.post(reverse("staff"), {"email": email, "role": role, "title": "Physio", **more})


def link_in(message) -> str:
    return emailed_path(message, "/accounts/invitation/")


def test_therapists_cannot_manage_staff(alice_client, alice, bob):
    assert alice_client.get(reverse("staff")).status_code == 403
    assert invite(alice_client).status_code == 403
    response = alice_client.post(reverse("member_action", args=[bob.membership.pk]), {})
    assert response.status_code == 403
    bob.refresh_from_db()
    assert bob.is_active and not Invitation.objects.exists()


def test_admin_sees_the_staff_list(clinic_admin_client, alice, bob, charlie):
    page = clinic_admin_client.get(reverse("staff")).content.decode()
    assert alice.email in page and bob.email in page
    assert charlie.email not in page


def test_invitation_email_link_creates_the_account_once(clinic_admin_client, client, clinic):
    response = invite(clinic_admin_client)
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["new.therapist@clinic.example"]
    assert clinic.name in message.subject
    path = link_in(message)
    token = path.rstrip("/").rsplit("/", 1)[1]
    invitation = Invitation.objects.get()
    # Only a hash of the token is stored.
    assert token not in invitation.token_hash and invitation.token_hash == Invitation.hash_token(
        token
    )

    client.logout()
    page = client.get(path, follow=True)
    assert page.status_code == 200 and clinic.name in page.content.decode()
    response = client.post(
        ACCEPT,
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
    joined = AuditEntry.objects.get(detail="Joined as therapist")
    assert (joined.actor, joined.action, joined.clinic) == (user, AuditEntry.Action.STAFF, clinic)
    assert joined.ip_address == "127.0.0.1"

    # The link is spent.
    client.logout()
    assert client.get(path, follow=True).status_code == 404
    assert "already been used" in client.get(path, follow=True).content.decode()


def test_weak_password_and_mismatch_are_form_errors(clinic_admin_client, client):
    invite(clinic_admin_client)
    path = link_in(mail.outbox[0])
    client.logout()
    client.get(path)
    response = client.post(
        ACCEPT, {"first_name": "N", "last_name": "O", "password1": "123", "password2": "123"}
    )
    assert response.status_code == 200
    assert "too short" in response.content.decode()
    response = client.post(
        ACCEPT,
        {
            "first_name": "N",
            "last_name": "O",
            "password1": "a-long-enough-passphrase",
            "password2": "another-long-passphrase",
        },
    )
    assert "didn’t match" in response.content.decode()
    assert not User.objects.filter(email="new.therapist@clinic.example").exists()


def test_expired_and_cancelled_links_do_not_work(clinic_admin_client, client):
    invite(clinic_admin_client)
    invitation = Invitation.objects.get()
    path = link_in(mail.outbox[0])
    client.logout()
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(path, follow=True).status_code == 404
    Invitation.objects.update(expires_at=timezone.now() + timedelta(days=1))
    assert client.get(path, follow=True).status_code == 200
    clinic_admin_client.force_login(invitation.clinic.memberships.get(role="admin").user)
    clinic_admin_client.post(reverse("invitation_action", args=[invitation.pk]), {"cancel": "1"})
    client.logout()
    assert client.get(path, follow=True).status_code == 404
    assert client.get("/accounts/invitation/made-up-token/", follow=True).status_code == 404


def test_sending_again_replaces_the_link(clinic_admin_client, client):
    invite(clinic_admin_client)
    invitation = Invitation.objects.get()
    old = link_in(mail.outbox[0])
    clinic_admin_client.post(reverse("invitation_action", args=[invitation.pk]), {"resend": "1"})
    new = link_in(mail.outbox[1])
    client.logout()
    assert old != new
    assert client.get(old, follow=True).status_code == 404
    assert client.get(new, follow=True).status_code == 200


def test_inviting_says_the_same_whether_or_not_the_address_has_an_account(
    clinic_admin_client, charlie
):
    """An admin must not learn who has an account on the installation (in other
    clinics): an address with one and an address without get the same answer."""
    pages = {}
    for email in (charlie.email.upper(), "nobody.yet@elsewhere.example"):
        response = invite(clinic_admin_client, email=email)
        assert response.status_code == 302 and response.url == reverse("staff")
        page = clinic_admin_client.get(response.url).content.decode()
        assert f"Invitation sent to {email.lower()}." in page
        pages[email] = page.replace(email.lower(), "ADDRESS")
    assert Invitation.objects.count() == 2 and len(mail.outbox) == 2
    # Charlie's account stays as it is: the accept page tells whoever holds the link
    # (the address's owner) that the address has an account.
    invitee = Client()
    invitee.get(link_in(mail.outbox[0]))
    response = invitee.post(
        ACCEPT,
        {
            "first_name": "C",
            "last_name": "D",
            "password1": "a-long-pass-phrase",
            "password2": "a-long-pass-phrase",
        },
    )
    assert "This address already has an OpenHEP account. Sign in instead." in (
        response.content.decode()
    )
    charlie.refresh_from_db()
    assert charlie.membership.clinic.name == "Southbank Physio"


def test_inviting_someone_already_on_the_staff_says_so(clinic_admin_client, bob):
    response = invite(clinic_admin_client, email="BOB@clinic.example")
    assert response.status_code == 200
    assert "bob@clinic.example is already on your clinic&#x27;s staff" in (
        response.content.decode()
    )
    assert not Invitation.objects.exists() and not mail.outbox


def test_mail_server_down_is_reported_not_a_500(clinic_admin_client, settings):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
        }
    }
    response = invite(clinic_admin_client)
    assert response.status_code == 302
    page = clinic_admin_client.get(reverse("staff")).content.decode()
    assert "could not be sent" in page and "Send again" in page
    assert Invitation.objects.get().email == "new.therapist@clinic.example"


def test_invited_admin_of_a_clinic_that_requires_two_factor_sets_it_up(
    clinic_admin_client, client, clinic
):
    invite(clinic_admin_client, email="second.admin@clinic.example", role="admin")
    clinic.require_two_factor = True
    clinic.save()
    path = link_in(mail.outbox[0])
    client.logout()
    client.get(path)
    client.post(
        ACCEPT,
        {
            "first_name": "Sam",
            "last_name": "Lee",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
        },
    )
    response = client.get(reverse("patients:list"))
    assert response.status_code == 302 and response.url.startswith(reverse("two_factor_setup"))


def test_deactivated_member_is_signed_out_and_cannot_sign_in(clinic_admin_client, client, bob):
    from django.test import Client

    bobs_browser = Client()
    bobs_browser.force_login(bob)
    assert bobs_browser.get(reverse("patients:list")).status_code == 200
    clinic_admin_client.post(reverse("member_action", args=[bob.membership.pk]), {"active": "0"})
    bob.refresh_from_db()
    assert not bob.is_active
    response = bobs_browser.get(reverse("patients:list"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    response = Client().post(
        reverse("login"), {"username": bob.email, "password": "correct-horse-battery"}
    )
    assert response.status_code == 200  # The form again, not a redirect into the app.
    # Reactivated, they can sign in again and their work is where they left it.
    clinic_admin_client.post(reverse("member_action", args=[bob.membership.pk]), {"active": "1"})
    bob.refresh_from_db()
    assert bob.is_active


def test_the_last_admin_cannot_be_demoted_or_deactivated(clinic_admin_client, clinic_admin, clinic):
    other_admin = MembershipFactory(clinic=clinic, role=Membership.Role.ADMIN)
    clinic_admin_client.post(
        reverse("member_action", args=[other_admin.pk]), {"role": Membership.Role.THERAPIST}
    )
    other_admin.refresh_from_db()
    assert other_admin.role == Membership.Role.THERAPIST  # Allowed: admin remains.
    response = clinic_admin_client.post(
        reverse("member_action", args=[clinic_admin.membership.pk]),
        {"role": "therapist"},
        follow=True,
    )
    assert "at least one active admin" in response.content.decode()
    clinic_admin.membership.refresh_from_db()
    assert clinic_admin.membership.is_admin
    response = clinic_admin_client.post(
        reverse("member_action", args=[clinic_admin.membership.pk]), {"active": "0"}, follow=True
    )
    assert "cannot deactivate your own account" in response.content.decode()
    clinic_admin.refresh_from_db()
    assert clinic_admin.is_active


def test_admin_promotes_a_therapist(clinic_admin_client, bob):
    clinic_admin_client.post(reverse("member_action", args=[bob.membership.pk]), {"role": "admin"})
    bob.membership.refresh_from_db()
    assert bob.membership.is_admin
    response = clinic_admin_client.post(
        reverse("member_action", args=[bob.membership.pk]), {"role": "owner"}, follow=True
    )
    assert "Choose a role" in response.content.decode()


def test_the_token_leaves_the_address_bar_at_once(clinic_admin_client, client):
    """Like Django's password reset: the token moves into the session, so it is not in
    access logs of the pages that follow nor sent on as a Referer."""
    invite(clinic_admin_client)
    path = link_in(mail.outbox[0])
    client.logout()
    response = client.get(path)
    assert response.status_code == 302 and response.url == ACCEPT
    # Without the session (another browser), the bare address shows nothing.
    from django.test import Client

    assert Client().get(ACCEPT).status_code == 404


def test_a_cancelled_or_replaced_invitation_cannot_be_sent_again(clinic_admin_client, client):
    invite(clinic_admin_client, email="dup@clinic.example")
    invite(clinic_admin_client, email="dup@clinic.example", role="admin", replace="on")
    first, second = Invitation.objects.order_by("pk")
    assert first.cancelled_at is not None and second.cancelled_at is None
    response = clinic_admin_client.post(
        reverse("invitation_action", args=[first.pk]), {"resend": "1"}, follow=True
    )
    assert "was cancelled or replaced" in response.content.decode()
    first.refresh_from_db()
    assert first.cancelled_at is not None
    assert len(mail.outbox) == 2


def test_inviting_an_address_again_asks_first(clinic_admin_client):
    invite(clinic_admin_client, email="dup@clinic.example")
    response = invite(clinic_admin_client, email="DUP@clinic.example", role="admin")
    page = response.content.decode()
    # Nothing replaced and nothing sent until the admin says so.
    assert response.status_code == 200
    assert "has not answered yet" in page and 'name="replace"' in page
    assert Invitation.objects.filter(cancelled_at=None).count() == 1
    assert len(mail.outbox) == 1
    response = invite(clinic_admin_client, email="dup@clinic.example", role="admin", replace="on")
    assert response.status_code == 302
    assert Invitation.objects.filter(cancelled_at=None).get().role == "admin"
    assert len(mail.outbox) == 2
    page = clinic_admin_client.get(reverse("staff")).content.decode()
    assert "The link in the earlier invitation no longer works." in page


def test_a_first_invitation_does_not_ask(clinic_admin_client):
    page = clinic_admin_client.get(reverse("staff")).content.decode()
    assert 'name="replace"' not in page
    assert invite(clinic_admin_client).status_code == 302


def test_sending_again_says_the_earlier_link_stops_working(clinic_admin_client):
    invite(clinic_admin_client, email="again@clinic.example")
    (invitation,) = Invitation.objects.all()
    page = clinic_admin_client.get(reverse("staff")).content.decode()
    assert "the link in the earlier email stops working" in page
    response = clinic_admin_client.post(
        reverse("invitation_action", args=[invitation.pk]), {"resend": "1"}, follow=True
    )
    assert "The link in the earlier invitation no longer works." in response.content.decode()
    assert len(mail.outbox) == 2


def test_site_operators_accounts_are_not_managed_by_clinic_admins(clinic_admin_client, bob):
    bob.is_staff = True
    bob.save()
    response = clinic_admin_client.post(
        reverse("member_action", args=[bob.membership.pk]), {"active": "0"}, follow=True
    )
    assert "managed by the site" in response.content.decode()
    bob.refresh_from_db()
    assert bob.is_active


def test_staff_changes_are_in_the_audit_trail(clinic_admin_client, bob):
    from clinic.models import AuditEntry

    invite(clinic_admin_client)
    clinic_admin_client.post(reverse("member_action", args=[bob.membership.pk]), {"role": "admin"})
    clinic_admin_client.post(reverse("member_action", args=[bob.membership.pk]), {"active": "0"})
    entries = list(
        AuditEntry.objects.filter(action="staff").order_by("pk").values_list("target", "detail")
    )
    invitation = Invitation.objects.get()
    assert entries == [
        (f"invitation {invitation.pk}", "Invited new.therapist@clinic.example as therapist"),
        (f"member {bob.email}", "Role set to clinic admin"),
        (f"member {bob.email}", "Deactivated"),
    ]
    page = clinic_admin_client.get(reverse("audit_log"), {"action": "staff"}).content.decode()
    assert "Role set to clinic admin" in page


@pytest.mark.django_db(transaction=True)
def test_two_admins_demoting_each_other_at_once_leave_one_admin(monkeypatch):
    """The last-admin check runs under a lock on the clinic. Without it, both checks
    could see the other admin and both demotions go through (PostgreSQL; SQLite's
    database-wide write lock serialises them anyway)."""
    import threading
    import time

    from django.db import connection

    from clinic import staff
    from tests.factories import ClinicFactory

    clinic = ClinicFactory()
    first = MembershipFactory(clinic=clinic, role=Membership.Role.ADMIN)
    second = MembershipFactory(clinic=clinic, role=Membership.Role.ADMIN)
    check = staff._other_active_admins

    def slow_check(membership):
        found = check(membership)
        time.sleep(0.3)  # Both threads would be here at once without the lock.
        return found

    if connection.vendor != "postgresql":
        # SQLite has no row locks; its database-wide write lock serialises the two.
        staff.member_set_role(membership=first, role="therapist", actor=Actor(second.user))
        with pytest.raises(ValidationError):
            staff.member_set_role(membership=second, role="therapist", actor=Actor(first.user))
        assert Membership.objects.filter(clinic=clinic, role="admin").count() == 1
        return
    monkeypatch.setattr(staff, "_other_active_admins", slow_check)
    start = threading.Barrier(2)
    outcomes = []

    def demote(membership, by):
        start.wait()
        try:
            staff.member_set_role(membership=membership, role="therapist", actor=Actor(by))
            outcomes.append("demoted")
        except Exception as error:  # noqa: BLE001
            outcomes.append(type(error).__name__)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=demote, args=(first, second.user)),
        threading.Thread(target=demote, args=(second, first.user)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ValidationError", "demoted"]
    assert Membership.objects.filter(clinic=clinic, role=Membership.Role.ADMIN).count() == 1


def test_an_invitation_with_a_nul_byte_is_refused_not_a_500(clinic_admin_client):
    response = invite(clinic_admin_client, email="a\x00@clinic.example")
    assert response.status_code == 200
    assert not Invitation.objects.exists()


def test_an_expired_invitation_is_replaced_without_asking(clinic_admin_client):
    import datetime

    from django.utils import timezone

    invite(clinic_admin_client, email="late@clinic.example")
    Invitation.objects.update(expires_at=timezone.now() - datetime.timedelta(days=1))
    response = invite(clinic_admin_client, email="late@clinic.example")
    assert response.status_code == 302
    assert Invitation.objects.filter(cancelled_at=None).count() == 1
