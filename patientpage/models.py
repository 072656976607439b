"""What a patient does with their program: sessions logged on their page (or entered by
staff from a paper log), the reminders they asked for, and what the clinic should follow
up. Everything here belongs to one patient and goes with them when they are erased."""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models


class SessionLog(models.Model):
    """One session of a program done: which exercises, how it felt, an optional note.

    A page session is stored as the patient goes (each tick), under the id the page
    gave it (``client_ref``), so ticks sent twice or late (offline) are stored once.
    """

    class Source(models.TextChoices):
        PAGE = "page", "Patient's page"
        PAPER = "paper", "Paper log, entered by staff"

    clinic = models.ForeignKey("clinic.Clinic", on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey(
        "clinic.Patient", on_delete=models.CASCADE, related_name="session_logs"
    )
    # The version that was done (a link moves on to newer versions).
    prescription = models.ForeignKey(
        "prescriptions.Prescription", on_delete=models.CASCADE, related_name="session_logs"
    )
    link = models.ForeignKey(
        "prescriptions.ProgramLink",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="session_logs",
    )
    client_ref = models.UUIDField(unique=True, editable=False)
    source = models.CharField(max_length=5, choices=Source, default=Source.PAGE)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(help_text="When the session began (the patient's clock).")
    finished_at = models.DateTimeField(
        null=True, blank=True, help_text="When 'Session done' was pressed."
    )
    pain = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(10)], help_text="0 none – 10 worst."
    )
    note = models.TextField("note to the therapist", max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [
            models.Index(fields=["patient", "-started_at"], name="session_patient_idx"),
            models.Index(fields=["prescription", "-started_at"], name="session_rx_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pain__isnull=True) | models.Q(pain__lte=10),
                name="session_pain_0_10",
            )
        ]

    def __str__(self):
        return f"Session of patient {self.patient_id} on {self.started_at:%Y-%m-%d}"

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None


class Difficulty(models.TextChoices):
    EASY = "easy", "Too easy"
    RIGHT = "right", "About right"
    HARD = "hard", "Too hard"


class SessionExercise(models.Model):
    """One exercise of a session: done or not, and how hard it felt."""

    session = models.ForeignKey(SessionLog, on_delete=models.CASCADE, related_name="exercises")
    item = models.ForeignKey(
        "prescriptions.PrescriptionItem", on_delete=models.CASCADE, related_name="+"
    )
    done = models.BooleanField(default=True)
    difficulty = models.CharField(max_length=5, choices=Difficulty, blank=True)

    class Meta:
        ordering = ["session", "item__order", "item_id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "item"], name="session_exercise_once")
        ]

    def __str__(self):
        return f"Item {self.item_id} in session {self.session_id}"


class ReminderPlan(models.Model):
    """Email reminders a patient asked for on their page, with their consent."""

    link = models.OneToOneField(
        "prescriptions.ProgramLink", on_delete=models.CASCADE, related_name="reminder_plan"
    )
    patient = models.ForeignKey(
        "clinic.Patient", on_delete=models.CASCADE, related_name="reminder_plans"
    )
    email = models.EmailField()
    # ISO weekdays, Monday 1 … Sunday 7, e.g. "135" for Monday, Wednesday and Friday.
    weekdays = models.CharField(max_length=7)
    time = models.TimeField()
    time_zone = models.CharField(max_length=64)
    nudge = models.BooleanField(
        default=True, help_text="One gentle email when nothing was logged for a while."
    )
    consent_at = models.DateTimeField()
    consent_text = models.CharField(max_length=300)
    stopped_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weekdays__regex=r"^[1-7]{1,7}$"), name="reminder_weekdays"
            )
        ]

    def __str__(self):
        return f"Reminders for patient {self.patient_id}"

    @property
    def is_active(self) -> bool:
        return self.stopped_at is None


class ReminderSent(models.Model):
    """One reminder email, due at one moment: the unique row makes it go once."""

    class Kind(models.TextChoices):
        REMINDER = "reminder", "Reminder"
        NUDGE = "nudge", "Nudge"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    plan = models.ForeignKey(ReminderPlan, on_delete=models.CASCADE, related_name="sent")
    kind = models.CharField(max_length=8, choices=Kind)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=6, choices=Status, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-due_at"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "kind", "due_at"], name="reminder_once")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} due {self.due_at:%Y-%m-%d %H:%M}"


class FollowUp(models.Model):
    """A reason to call a patient, listed on the therapist's dashboard until handled."""

    class Reason(models.TextChoices):
        PAIN_HIGH = "pain_high", "Pain 7 or more"
        PAIN_UP = "pain_up", "Pain up 2 or more since the start"
        TOO_HARD = "too_hard", "Found an exercise too hard"
        INACTIVE = "inactive", "No activity for 7 days"
        NOTE = "note", "New note"
        WORSE = "worse", "Outcome score worse by an important change"

    clinic = models.ForeignKey("clinic.Clinic", on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey(
        "clinic.Patient", on_delete=models.CASCADE, related_name="follow_ups"
    )
    prescription = models.ForeignKey(
        "prescriptions.Prescription", on_delete=models.CASCADE, related_name="follow_ups"
    )
    session = models.ForeignKey(
        SessionLog, null=True, blank=True, on_delete=models.CASCADE, related_name="follow_ups"
    )
    response = models.ForeignKey(
        "outcomes.Response",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="follow_ups",
    )
    reason = models.CharField(max_length=10, choices=Reason)
    created_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["clinic", "handled_at", "-created_at"], name="followup_open_idx")
        ]
        constraints = [
            # One open item per reason and patient: a second painful session adds nothing
            # new to call about until the first is handled.
            models.UniqueConstraint(
                fields=["patient", "reason"],
                condition=models.Q(handled_at__isnull=True),
                name="followup_open_once",
            )
        ]

    def __str__(self):
        return f"{self.get_reason_display()} (patient {self.patient_id})"
