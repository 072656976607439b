"""A new clinic on this installation, with its first admin invited by email.

    manage.py clinic_create --name "Northside Physio" --admin-email owner@northside.example

The admin's link works for INVITATION_DAYS; they choose their own password (and,
if the clinic asks for it, set up two-factor sign-in). The clinic's trail records
who made it: this command, as no staff account ran it.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse

from clinic import staff
from clinic.audit import Actor, audit_record
from clinic.forms import InvitationForm
from clinic.mail import explain
from clinic.models import AuditEntry, Clinic, Membership
from clinic.slugs import unique_slug

ACTOR = Actor.command("manage.py clinic_create")


class Command(BaseCommand):
    help = "Create a clinic and invite its first admin by email."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="The clinic's name, as on handouts.")
        parser.add_argument("--admin-email", required=True, help="Who runs the clinic.")
        parser.add_argument("--admin-title", default="", help="Job title printed on handouts.")
        parser.add_argument(
            "--print-link",
            action="store_true",
            help="Also print the invitation link (when email is not set up yet).",
        )

    def handle(self, *args, name: str, admin_email: str, admin_title: str, **options):
        name = " ".join(name.split())
        if not name:
            raise CommandError("Give the clinic a name.")
        if not settings.SITE_URL:
            raise CommandError(
                "Set SITE_URL (the address staff open, e.g. https://openhep.example.org): "
                "the invitation link is built from it."
            )
        with transaction.atomic():
            clinic = Clinic(
                name=name, slug=unique_slug(Clinic.objects.all(), name, fallback="clinic")
            )
            try:
                clinic.full_clean()
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from error
            clinic.save()
            audit_record(
                actor=ACTOR,
                action=AuditEntry.Action.SETTINGS,
                clinic=clinic,
                detail="Clinic created",
            )
            form = InvitationForm(
                data={"email": admin_email, "role": Membership.Role.ADMIN, "title": admin_title},
                clinic=clinic,
            )
            if not form.is_valid():
                problems = [
                    f"{field}: {' '.join(str(e) for e in errors)}"
                    for field, errors in form.errors.items()
                ]
                raise CommandError("; ".join(problems))
            invitation, token = staff.invitation_create(clinic=clinic, actor=ACTOR, form=form)
        link = settings.SITE_URL + reverse("invitation_accept", args=[token])
        self.stdout.write(f"Created clinic {clinic.name} ({clinic.slug}).")
        try:
            staff.invitation_send(invitation=invitation, token=token, base_url=settings.SITE_URL)
        except Exception as error:  # noqa: BLE001 (any mail failure is reported)
            self.stderr.write(
                f"The invitation to {invitation.email} could not be sent: {explain(error)} "
                "Give them this link yourself, by a private channel:"
            )
            self.stderr.write(link)
            return
        self.stdout.write(f"Invited {invitation.email} as clinic admin.")
        if options["print_link"]:
            self.stdout.write(f"Invitation link: {link}")
