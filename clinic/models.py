import hashlib
from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.db.models import Value
from django.db.models.functions import Lower
from django.db.models.lookups import Exact
from django.urls import reverse

from clinic.colours import validate_readable
from clinic.storage import public_storage


class Clinic(models.Model):
    class PaperSize(models.TextChoices):
        A4 = "A4", "A4"
        LETTER = "letter", "US Letter"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    website = models.URLField(blank=True)
    address = models.TextField(blank=True)
    handout_footer = models.CharField(
        max_length=200,
        blank=True,
        default="Stop any exercise that causes sharp or increasing pain, and call us.",
        help_text="Printed at the foot of every handout page.",
    )
    paper_size = models.CharField(max_length=10, choices=PaperSize, default=PaperSize.A4)
    reply_to = models.EmailField(
        "reply-to address",
        blank=True,
        help_text="Where patients' replies to handout emails go (default: the clinic email).",
    )
    email_subject = models.CharField(
        max_length=150,
        default="Your home exercise program from {clinic}",
        help_text="Placeholders: {patient}, {clinic}, {program}.",
    )
    email_message = models.TextField(
        max_length=2000,
        default=(
            "Your home exercise program is attached as a PDF. Print it or keep it on your "
            "phone, and follow the doses your therapist set. Stop any exercise that causes "
            "sharp or increasing pain, and let us know."
        ),
        help_text="The body of handout emails. Placeholders: {patient}, {clinic}, {program}.",
    )
    logo = models.ImageField(
        upload_to="clinics/logos/",
        storage=public_storage,
        blank=True,
        help_text="JPEG, PNG or WebP; printed at the top of every handout.",
    )
    brand_colour = models.CharField(
        max_length=7,
        default="#0f5e6e",
        validators=[
            RegexValidator(r"^#[0-9A-Fa-f]{6}$", "Enter a colour like #0f5e6e."),
            validate_readable,
        ],
        help_text="Colour of headings on handouts: dark enough to read on white paper.",
    )
    # The patient page (``/p/<token>/``) behind every handout.
    program_link_days = models.PositiveSmallIntegerField(
        "patient page stays open (days after the review date)",
        default=90,
        validators=[MaxValueValidator(3650)],
        help_text="After this many days past a program's review date its page stops working. "
        "0 keeps it open until you turn it off.",
    )
    program_link_birth_year = models.BooleanField(
        "ask for the patient's birth year on their page",
        default=False,
        help_text="A second check before the page opens: the year the patient was born.",
    )
    reminder_nudge_days = models.PositiveSmallIntegerField(
        "nudge after days without activity",
        default=4,
        validators=[MaxValueValidator(60)],
        help_text="A patient who asked for reminders gets one gentle email when nothing was "
        "logged for this many days. 0 sends none.",
    )
    require_two_factor = models.BooleanField(
        "require two-factor sign-in for clinic admins",
        default=False,
        help_text="Clinic admins must set up an authenticator app and enter its code at sign-in.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(brand_colour__regex=r"^#[0-9A-Fa-f]{6}$"),
                name="clinic_brand_colour_hex",
            )
        ]

    def __str__(self):
        return self.name


class UserManager(BaseUserManager):
    """Addresses are stored lower-cased and matched without regard to case: mail
    systems treat ``Mixed.Case@…`` and ``mixed.case@…`` as one mailbox, so OpenHEP
    treats them as one account (unique on ``Lower("email")``)."""

    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email):
        return super().normalize_email(email).lower()

    def with_email(self, email: str):
        """The account(s) with ``email`` in any letter case; compared by the database's
        LOWER() on both sides, as the unique constraint compares them."""
        return self.filter(Exact(Lower("email"), Lower(Value(email or ""))))

    def get_by_natural_key(self, username):
        # Signing in, password checks and createsuperuser all come through here.
        return self.with_email(username).get()

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A member of staff. Logs in with an email address; patients never log in."""

    # Django's documented way to drop the inherited field; the stubs type it as str.
    username = None  # type: ignore[assignment]
    email = models.EmailField("email address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    # The stubs expect auth's UserManager (username first); email login needs its own.
    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="user_email_ci_unique",
                violation_error_message="An account with this email address already exists "
                "(addresses are the same whatever their letter case).",
            )
        ]

    def __str__(self):
        return self.get_full_name() or self.email


class Membership(models.Model):
    """A user's place in a clinic. One clinic per user for now."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Clinic admin"
        THERAPIST = "therapist", "Therapist"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role, default=Role.THERAPIST)
    title = models.CharField(
        max_length=100, blank=True, help_text="Shown on handouts, e.g. Remedial massage therapist."
    )

    def __str__(self):
        return f"{self.user} – {self.clinic} ({self.get_role_display()})"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


class Patient(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="patients")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    notes = models.TextField(blank=True, help_text="Private to clinic staff; never printed.")
    email_consent = models.BooleanField(
        "consents to handouts by email",
        default=False,
    )
    email_consent_at = models.DateTimeField(null=True, blank=True, editable=False)
    email_consent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    archived = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        indexes = [
            models.Index(Lower("last_name"), Lower("first_name"), name="patient_name_idx"),
            # The patient list: a clinic's patients (archived or not) in name order.
            models.Index(
                fields=["clinic", "archived", "last_name", "first_name", "id"],
                name="patient_clinic_name_idx",
            ),
        ]

    def __str__(self):
        return self.full_name

    def get_absolute_url(self):
        return reverse("patients:detail", args=[self.pk])

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def display_name(self) -> str:
        """How the patient is addressed: their preferred name if they gave one."""
        first = self.preferred_name or self.first_name
        return f"{first} {self.last_name}".strip()


class Invitation(models.Model):
    """A clinic admin's invitation for someone to join the clinic's staff.

    The link holds a random token; only its SHA-256 is stored, so a copy of the
    database cannot be used to accept an invitation. A link works once.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(
        max_length=20, choices=Membership.Role, default=Membership.Role.THERAPIST
    )
    title = models.CharField(max_length=100, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Invitation for {self.email} to {self.clinic}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def is_open(self, now) -> bool:
        return self.accepted_at is None and self.cancelled_at is None and self.expires_at > now


class AuditEntry(models.Model):
    """Who did what to which patient's record, and when.

    Entries hold ids and fixed words only, never a patient's name or anything
    typed about them, so erasing a patient leaves a trail without personal data.
    Nothing in the app edits or deletes an entry.
    """

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        CREATE = "create", "Created"
        CHANGE = "change", "Changed"
        PRINT = "print", "Printed or downloaded"
        EMAIL = "email", "Emailed"
        EXPORT = "export", "Exported"
        ERASE = "erase", "Erased"
        # Not about a patient: the clinic's staff, settings and sign-in rules.
        STAFF = "staff", "Staff change"
        SETTINGS = "settings", "Clinic settings"

    # No index of its own: (clinic, -at) below starts with it.
    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, related_name="audit_entries", db_index=False
    )
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as written at the time: the trail still names who acted after their account goes.
    actor_email = models.EmailField()
    action = models.CharField(max_length=10, choices=Action)
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    # The patient's id survives erasure (the row above is then gone and the link empty).
    # Empty for entries about the clinic rather than a patient (staff, settings).
    patient_ref = models.BigIntegerField("patient id", null=True, blank=True)
    target = models.CharField(
        max_length=60, blank=True, help_text="What was touched, e.g. prescription 12, version 2."
    )
    detail = models.CharField(max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "audit entries"
        indexes = [
            # The clinic's trail, newest first; and one patient's entries in it.
            models.Index(fields=["clinic", "-at"], name="audit_clinic_at_idx"),
            models.Index(fields=["clinic", "patient_ref", "-at"], name="audit_clinic_patient_idx"),
        ]

    def __str__(self):
        return (
            f"{self.at:%Y-%m-%d %H:%M} {self.actor_email} {self.action} patient {self.patient_ref}"
        )


class WorkerHeartbeat(models.Model):
    """When a background worker (``manage.py db_worker``) last showed it was alive, one
    row per worker run. The queue check (``/healthz/queue``) reads the newest; nothing
    about a clinic or a patient is kept here."""

    worker_id = models.CharField(max_length=64, unique=True)
    # host:pid, to tell an operator which process went quiet.
    process = models.CharField(max_length=255, blank=True)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.process or self.worker_id}: {self.seen_at:%Y-%m-%d %H:%M:%S}"
