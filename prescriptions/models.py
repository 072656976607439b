from django.conf import settings
from django.db import models
from django.urls import reverse

from exercises.models import DoseFields


class Prescription(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ISSUED = "issued", "Issued"
        SUPERSEDED = "superseded", "Superseded"

    clinic = models.ForeignKey("clinic.Clinic", on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey(
        "clinic.Patient", on_delete=models.CASCADE, related_name="prescriptions"
    )
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="prescriptions"
    )
    title = models.CharField(max_length=150, default="Your home exercise program")
    advice = models.TextField("general advice", blank=True)
    status = models.CharField(max_length=12, choices=Status, default=Status.DRAFT)
    review_date = models.DateField(null=True, blank=True)
    supersedes = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="versions",
        help_text="The issued prescription this one replaces when it is issued.",
    )
    # Which version of one program this is (1, 2, 3… along ``supersedes``): stored when
    # the new version is made, so a list shows "v3" without walking each chain.
    version = models.PositiveSmallIntegerField(default=1, editable=False)
    large_print = models.BooleanField(
        default=False, help_text="Bigger type and one exercise per page, for low vision."
    )
    log_weeks = models.PositiveSmallIntegerField(
        "tick-box log",
        choices=[(0, "None"), (1, "1 week"), (2, "2 weeks")],
        default=0,
        help_text="Adds a page where the patient ticks off each day's exercises.",
    )
    print_scores = models.BooleanField(
        "print the latest scores on the handout",
        default=False,
        help_text="A short “Your progress” box: each questionnaire's first and latest score.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    issued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["clinic", "-created_at"], name="rx_clinic_created_idx"),
            # The dashboard: a therapist's prescriptions, last changed first.
            models.Index(
                fields=["therapist", "-updated_at", "-id"], name="rx_therapist_updated_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="draft") | models.Q(issued_at__isnull=False),
                name="rx_issued_has_date",
            )
        ]

    def __str__(self):
        return f"{self.title} – {self.patient}"

    def get_absolute_url(self):
        return reverse("prescriptions:detail", args=[self.pk])

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def version_label(self) -> str:
        """ "v2", "v3"…; the first version is "v1" only once a later version exists.
        Lists annotate ``has_later`` (``prescriptions.selectors.with_versions``); one
        prescription on its own page asks the database."""
        if self.version > 1:
            return f"v{self.version}"
        has_later = getattr(self, "has_later", None)
        if has_later is None:
            has_later = self.pk is not None and self.versions.exists()
        return "v1" if has_later else ""


class PrescriptionItem(DoseFields):
    prescription = models.ForeignKey(Prescription, on_delete=models.CASCADE, related_name="items")
    # PROTECT: an exercise a patient was given can be retired, never deleted.
    exercise = models.ForeignKey(
        "exercises.Exercise", on_delete=models.PROTECT, related_name="prescription_items"
    )
    order = models.PositiveSmallIntegerField(default=0)
    note = models.CharField(
        "note for the patient",
        max_length=300,
        blank=True,
        help_text="Printed under this exercise on the handout.",
    )

    class Meta:
        ordering = ["prescription", "order", "pk"]

    def __str__(self):
        return f"{self.exercise} ({self.dose})"


def handout_path(instance, filename):
    return f"handouts/{instance.prescription.clinic_id}/{instance.prescription_id}/{filename}"


class Handout(models.Model):
    """The PDF of an issued prescription, kept byte for byte as the patient got it.

    Issuing stores the snapshot (what is printed) at once, ``preparing``; the task
    ``prescriptions.tasks.render_handout`` draws the PDF from that snapshot and fills in
    the file, its hash and size (``ready``). Until then ``pdf`` is empty: the download,
    emails and exports wait for ``ready``.
    """

    class Status(models.TextChoices):
        PREPARING = "preparing", "Preparing"
        RENDERING = "rendering", "Being drawn"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    # Handouts a worker is (still) to draw, and those plus the ones that need a person:
    # the few rows the partial index below holds.
    WAITING = (Status.PREPARING, Status.RENDERING)
    NOT_READY = (Status.PREPARING, Status.RENDERING, Status.FAILED)

    prescription = models.OneToOneField(
        Prescription, on_delete=models.CASCADE, related_name="handout"
    )
    pdf = models.FileField(upload_to=handout_path, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveIntegerField(default=0)
    snapshot = models.JSONField(help_text="What was prescribed, as printed.")
    # The link whose page the handout prints as a QR code. Its token is made again from
    # the link's nonce when the PDF is drawn (never stored, not in the snapshot); kept
    # here because by then the link may already show a newer version of the program.
    program_link = models.ForeignKey(
        "ProgramLink", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Database defaults too: rows written by plain SQL (the bench) are ready handouts.
    status = models.CharField(
        max_length=10, choices=Status, default=Status.READY, db_default=Status.READY
    )
    attempts = models.PositiveSmallIntegerField(default=0, db_default=0)
    last_error = models.CharField(max_length=300, blank=True, default="", db_default="")
    # Preparing: when it may be drawn (a retry waits); being drawn: when the worker's
    # claim runs out (a worker that died leaves it to ``requeue_deliveries``).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="ready") | (~models.Q(pdf="") & ~models.Q(sha256="")),
                name="handout_ready_has_file",
            )
        ]
        indexes = [
            # The re-queue's and the health check's scans (filtered on NOT_READY): only
            # handouts not drawn yet, a handful at any time.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status__in=["preparing", "rendering", "failed"]),
                name="handout_not_ready_idx",
            )
        ]

    def __str__(self):
        return f"Handout for {self.prescription}"

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY

    @property
    def is_waiting(self) -> bool:
        return self.status in self.WAITING

    @property
    def is_failed(self) -> bool:
        return self.status == self.Status.FAILED


class Delivery(models.Model):
    """One request to email a handout, with what became of it."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        RETRY = "retry", "Failed – will retry"
        FAILED = "failed", "Failed"

    # Deliveries a worker may (still) send.
    PENDING = (Status.QUEUED, Status.RETRY)

    prescription = models.ForeignKey(
        Prescription, on_delete=models.CASCADE, related_name="deliveries"
    )
    # The prescription's clinic, kept here too: the clinic's email log reads its own
    # rows from one index instead of joining every clinic's prescriptions.
    clinic = models.ForeignKey(
        "clinic.Clinic",
        on_delete=models.CASCADE,
        related_name="+",
        editable=False,
        db_index=False,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recipient = models.EmailField()
    extra_recipient = models.EmailField(
        "also send to", blank=True, help_text="e.g. a carer; receives a copy."
    )
    message = models.TextField("personal message", blank=True, max_length=1000)
    # One per submitted form: a double click or a resubmit finds the first delivery.
    request_key = models.UUIDField(unique=True, null=True, blank=True, editable=False)
    status = models.CharField(max_length=10, choices=Status, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    message_id = models.CharField(max_length=250, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx"),
            models.Index(
                fields=["clinic", "-created_at", "-id"], name="delivery_clinic_created_idx"
            ),
        ]

    def __str__(self):
        return f"{self.recipient}: {self.get_status_display()}"

    def save(self, *args, **kwargs):
        if self.clinic_id is None:
            self.clinic_id = self.prescription.clinic_id
        super().save(*args, **kwargs)

    @property
    def can_retry(self) -> bool:
        return self.status in (self.Status.FAILED, self.Status.RETRY)


class ProgramTemplate(models.Model):
    """A named, reusable list of exercises with doses: shared (no clinic) or one clinic's."""

    clinic = models.ForeignKey(
        "clinic.Clinic",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="program_templates",
        help_text="Empty for the shared library.",
    )
    name = models.CharField(max_length=150)
    slug = models.SlugField(max_length=150)
    description = models.CharField(max_length=300, blank=True)
    advice = models.TextField("general advice", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "template"
        constraints = [
            models.UniqueConstraint(fields=["clinic", "slug"], name="template_slug_per_clinic"),
            models.UniqueConstraint(
                fields=["slug"],
                condition=models.Q(clinic__isnull=True),
                name="shared_template_slug",
            ),
        ]

    def __str__(self):
        return self.name


class TemplateItem(DoseFields):
    template = models.ForeignKey(ProgramTemplate, on_delete=models.CASCADE, related_name="items")
    exercise = models.ForeignKey(
        "exercises.Exercise", on_delete=models.PROTECT, related_name="template_items"
    )
    order = models.PositiveSmallIntegerField(default=0)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["template", "order", "pk"]

    def __str__(self):
        return f"{self.exercise} ({self.dose})"


class ProgramLink(models.Model):
    """The secret link that opens a patient's program at ``/p/<token>/`` without login.

    One per program: a new version of an issued prescription keeps its link, which then
    opens the new version. The token is never stored. It is computed from ``nonce`` and
    the server's secret key (``prescriptions.links``), so a new version's handout can
    print the same code, and a copy of the database alone opens no page; the page finds
    its link by ``token_hash``.
    """

    class Ended(models.TextChoices):
        OFF = "off", "Turned off by the clinic"
        REPLACED = "replaced", "Replaced by a new link"

    clinic = models.ForeignKey("clinic.Clinic", on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey(
        "clinic.Patient", on_delete=models.CASCADE, related_name="program_links"
    )
    # The latest issued version of the program; empty until its first version is issued.
    prescription = models.ForeignKey(
        Prescription, null=True, blank=True, on_delete=models.CASCADE, related_name="links"
    )
    nonce = models.CharField(max_length=32, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_reason = models.CharField(max_length=10, choices=Ended, blank=True)
    last_opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["patient", "ended_at"], name="link_patient_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True) | ~models.Q(ended_reason=""),
                name="link_ended_has_reason",
            )
        ]

    def __str__(self):
        return f"Program link {self.pk} of patient {self.patient_id}"

    @property
    def is_on(self) -> bool:
        return self.ended_at is None


class DosePreset(DoseFields):
    """A clinic's default dose for the exercises of one category: an exercise added to a
    plan starts with the preset of its first category, if the clinic set one."""

    clinic = models.ForeignKey("clinic.Clinic", on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey("exercises.Category", on_delete=models.CASCADE, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category__order", "category__name"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "category"], name="dose_preset_per_category")
        ]

    def __str__(self):
        return f"{self.category}: {self.dose}"
