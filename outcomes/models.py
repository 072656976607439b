"""Outcome measures: questionnaires defined as data, when a program asks for them, and
the patient's answers with their scores.

A questionnaire's definition (``outcomes.definitions``) is stored whole, so a response
is always scored by the rules it was answered under. Bundled measures have no clinic;
a clinic's imported ones (for instruments it holds a licence for) have one and carry
their licence note. Answers belong to the patient and go when they are erased.
"""

from django.conf import settings
from django.db import models


class Questionnaire(models.Model):
    class Source(models.TextChoices):
        BUNDLED = "bundled", "Bundled with OpenHEP"
        IMPORTED = "imported", "Imported by the clinic"

    clinic = models.ForeignKey(
        "clinic.Clinic",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="questionnaires",
        help_text="Empty for the bundled measures every clinic has.",
    )
    slug = models.SlugField(max_length=60)
    version = models.CharField(max_length=20)
    title = models.CharField(max_length=150)
    short_title = models.CharField(max_length=40, help_text="For charts and lists, e.g. Pain.")
    definition = models.JSONField()
    licence = models.TextField(blank=True)
    citation = models.TextField(blank=True)
    source = models.CharField(max_length=8, choices=Source, default=Source.IMPORTED)
    is_active = models.BooleanField(default=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["clinic_id", "title", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["slug", "version"],
                condition=models.Q(clinic__isnull=True),
                name="questionnaire_bundled_once",
            ),
            models.UniqueConstraint(
                fields=["clinic", "slug", "version"],
                condition=models.Q(clinic__isnull=False),
                name="questionnaire_clinic_once",
            ),
            models.CheckConstraint(
                condition=models.Q(clinic__isnull=True, source="bundled")
                | models.Q(clinic__isnull=False, source="imported"),
                name="questionnaire_source_matches_owner",
            ),
        ]

    def __str__(self):
        return f"{self.title} (version {self.version})"


class Schedule(models.Model):
    """A program asks the patient for a questionnaire: once now, when it is issued, at
    its review date, or every few weeks. A new version of the program carries it on."""

    class When(models.TextChoices):
        NOW = "now", "Now"
        ISSUE = "issue", "When the program is issued"
        REVIEW = "review", "At the review date"
        EVERY = "every", "Every few weeks"

    clinic = models.ForeignKey("clinic.Clinic", on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey(
        "clinic.Patient", on_delete=models.CASCADE, related_name="questionnaire_schedules"
    )
    prescription = models.ForeignKey(
        "prescriptions.Prescription",
        on_delete=models.CASCADE,
        related_name="questionnaire_schedules",
    )
    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.RESTRICT, related_name="schedules"
    )
    when = models.CharField(max_length=6, choices=When)
    every_weeks = models.PositiveSmallIntegerField(null=True, blank=True)
    # "Now" asks from this moment; a copy made for a new version keeps it, so an
    # answered "now" is not asked again.
    starts_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(when="every", every_weeks__gte=1, every_weeks__lte=52)
                    | (~models.Q(when="every") & models.Q(every_weeks__isnull=True))
                ),
                name="schedule_every_has_weeks",
            ),
            models.UniqueConstraint(
                fields=["prescription", "questionnaire", "when"],
                condition=models.Q(stopped_at__isnull=True),
                name="schedule_active_once",
            ),
        ]

    def __str__(self):
        return f"{self.questionnaire.short_title}: {self.describe()}"

    def describe(self) -> str:
        if self.when == self.When.EVERY:
            return "every week" if self.every_weeks == 1 else f"every {self.every_weeks} weeks"
        return str(self.get_when_display()).lower()


class Response(models.Model):
    """One patient's answers to one questionnaire, scored when stored."""

    class Source(models.TextChoices):
        PAGE = "page", "Patient's page"
        PAPER = "paper", "Paper form, entered by staff"

    clinic = models.ForeignKey("clinic.Clinic", on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey(
        "clinic.Patient", on_delete=models.CASCADE, related_name="questionnaire_responses"
    )
    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.RESTRICT, related_name="responses"
    )
    # The program version the patient was on, and what asked for it (when something did).
    prescription = models.ForeignKey(
        "prescriptions.Prescription",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="questionnaire_responses",
    )
    schedule = models.ForeignKey(
        Schedule, null=True, blank=True, on_delete=models.SET_NULL, related_name="responses"
    )
    answers = models.JSONField()
    score = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    source = models.CharField(max_length=5, choices=Source)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-answered_at", "-pk"]
        indexes = [
            models.Index(
                fields=["patient", "questionnaire", "answered_at"], name="response_patient_idx"
            ),
            models.Index(fields=["clinic", "answered_at"], name="response_clinic_idx"),
        ]

    def __str__(self):
        return f"{self.questionnaire.short_title} of patient {self.patient_id}"
