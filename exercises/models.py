import base64
import secrets
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from simple_history.models import HistoricalRecords

from clinic.storage import public_storage
from exercises.dose import Dose, count_validators
from exercises.wording import refusals, refuse_dose_phrases


class Side(models.TextChoices):
    NONE = "none", "No side"
    LEFT = "left", "Left side"
    RIGHT = "right", "Right side"
    EACH = "each", "Each side"


class DoseFields(models.Model):
    """The six dose fields: an exercise's default dose, or a prescription item's own."""

    hold_seconds = models.PositiveSmallIntegerField(
        "hold (sec)", null=True, blank=True, validators=count_validators("hold_seconds")
    )
    reps = models.PositiveSmallIntegerField(
        "reps", null=True, blank=True, validators=count_validators("reps")
    )
    sets = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=count_validators("sets")
    )
    side = models.CharField(max_length=5, choices=Side, default=Side.NONE)
    times_per_day = models.PositiveSmallIntegerField(
        "times a day", null=True, blank=True, validators=count_validators("times_per_day")
    )
    days_per_week = models.PositiveSmallIntegerField(
        "days a week", null=True, blank=True, validators=count_validators("days_per_week")
    )

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        self.dose.validate()

    @property
    def dose(self) -> Dose:
        return Dose.of(self)


class Taxon(models.Model):
    """A body region, category or piece of equipment: a slug and a display name."""

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=60)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["order", "name"]

    def __str__(self):
        return self.name


class Region(Taxon):
    class Meta(Taxon.Meta):
        verbose_name = "body region"


class Category(Taxon):
    class Meta(Taxon.Meta):
        verbose_name_plural = "categories"


class Equipment(Taxon):
    class Meta(Taxon.Meta):
        verbose_name_plural = "equipment"


class ExerciseQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Exercise.Status.PUBLISHED)

    def visible_to(self, clinic):
        """The shared library plus this clinic's own exercises."""
        scope = models.Q(clinic__isnull=True)
        if clinic is not None:
            scope |= models.Q(clinic=clinic)
        return self.filter(scope)


class Exercise(DoseFields):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"

    class Position(models.TextChoices):
        STANDING = "standing", "Standing"
        SITTING = "sitting", "Sitting"
        LYING_BACK = "lying-back", "Lying on your back"
        LYING_FRONT = "lying-front", "Lying on your front"
        LYING_SIDE = "lying-side", "Lying on your side"
        KNEELING = "kneeling", "Kneeling"
        ALL_FOURS = "all-fours", "On hands and knees"

    class Difficulty(models.TextChoices):
        EASY = "easy", "Easy"
        MODERATE = "moderate", "Moderate"
        HARD = "hard", "Hard"

    # The texts below are in ``language``. Translations will live in their own rows
    # (exercise, language, texts), leaving this language-neutral core as it is.
    language = models.CharField(max_length=10, default="en")
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    aliases = models.CharField(
        max_length=300, blank=True, help_text="Other names, comma separated (found by search)."
    )
    summary = models.CharField(max_length=200, help_text="One line: what the exercise is.")
    indications = models.CharField(
        "who it is for",
        max_length=300,
        blank=True,
        help_text="Comma separated, e.g. tight hip flexors, anterior pelvic tilt.",
    )
    why = models.TextField("why it helps", blank=True)
    setup = models.TextField("set-up", blank=True)
    cues = models.TextField(blank=True, help_text="One cue per line.")
    cautions = models.TextField(blank=True, help_text="One per line: when to ease off or stop.")
    position = models.CharField(max_length=20, choices=Position, default=Position.STANDING)
    difficulty = models.CharField(max_length=10, choices=Difficulty, default=Difficulty.EASY)
    regions = models.ManyToManyField(Region, blank=True, related_name="exercises")
    categories = models.ManyToManyField(Category, blank=True, related_name="exercises")
    equipment = models.ManyToManyField(Equipment, blank=True, related_name="exercises")
    related = models.ManyToManyField(
        "self",
        blank=True,
        symmetrical=False,
        related_name="related_from",
        verbose_name="pairs well with",
    )
    # One step down the same movement (knee push-up for a push-up); the harder versions
    # are the exercises naming this one as their easier version.
    easier = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="harder_versions",
        verbose_name="easier version",
        help_text="The same movement, one step easier (a shared exercise: shared ones only).",
    )
    video_url = models.URLField("video link", blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.DRAFT)
    clinic = models.ForeignKey(
        "clinic.Clinic",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="exercises",
        help_text="Empty for the shared library.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    # A clinic's own exercise moved here from another installation (clinic_import):
    # the signatures its printed video links carried there, still accepted here.
    moved_video_signatures = models.JSONField(default=list, blank=True, editable=False)

    # PostgreSQL only: the weighted full-text document of name, aliases, summary and
    # indications, kept current by a database trigger (migration 0003) and indexed.
    # On SQLite the column stays empty and search falls back to word matching.
    search_vector = SearchVectorField(null=True, editable=False)

    objects = ExerciseQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["search_vector", "moved_video_signatures"])

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["status", "clinic"], name="exercise_status_clinic_idx"),
            # The library without search words: published exercises by name, a page
            # at a time, read in order from the index instead of sorting them all.
            models.Index(fields=["status", "name"], name="exercise_status_name_idx"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("exercises:detail", args=[self.slug])

    def clean(self):
        """The dose rule (``DoseFields``) and dose-neutral texts (``exercises.wording``)."""
        errors: dict[str, list[str]] = {}
        try:
            super().clean()
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        for field, label, texts in (
            ("setup", "The set-up", [self.setup]),
            ("cues", "Cue", lines(self.cues)),
            ("cautions", "Caution", lines(self.cautions)),
        ):
            if messages := refusals(texts, label=label):
                errors.setdefault(field, []).extend(messages)
        if message := self._easier_problem():
            errors.setdefault("easier", []).append(message)
        if errors:
            raise ValidationError(errors)

    def _easier_problem(self) -> str:
        """Why the easier version cannot be this one, or "": it must be in scope (a shared
        exercise links to shared ones, a clinic's own to shared ones or its own) and the
        chain must not come back to this exercise."""
        easier = self.easier
        if easier is None:
            return ""
        if easier.pk is not None and easier.pk == self.pk:
            return "An exercise cannot be its own easier version."
        if easier.clinic_id is not None and easier.clinic_id != self.clinic_id:
            return (
                "A shared exercise's easier version must be a shared exercise."
                if self.clinic_id is None
                else "The easier version must be a shared exercise or one of this clinic's own."
            )
        seen = {easier.pk}
        pk = easier.easier_id
        while pk is not None and self.pk is not None:
            if pk == self.pk:
                return f"{easier.name} is already harder than this exercise (a loop)."
            if pk in seen:
                break  # A loop elsewhere (not through this exercise): not this form's problem.
            seen.add(pk)
            pk = Exercise.objects.filter(pk=pk).values_list("easier_id", flat=True).first()
        return ""

    @property
    def cue_list(self) -> list[str]:
        return lines(self.cues)

    @property
    def caution_list(self) -> list[str]:
        return lines(self.cautions)

    @property
    def alias_list(self) -> list[str]:
        return [a.strip() for a in self.aliases.split(",") if a.strip()]


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class ExerciseStep(models.Model):
    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(default=0)
    text = models.TextField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["exercise", "order", "pk"]

    def __str__(self):
        return self.text[:60]

    def clean(self):
        refuse_dose_phrases([self.text], field="text", label="This step")


def exercise_image_path(instance, filename):
    return f"exercises/{instance.exercise.slug}/{filename}"


class ExerciseImage(models.Model):
    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to=exercise_image_path, storage=public_storage)
    # A bundled drawing's moving version (SVG with CSS keyframes between its start and
    # end poses), shown on screen; the still ``image`` is what prints.
    animation = models.FileField(
        upload_to=exercise_image_path, storage=public_storage, blank=True, editable=False
    )
    # The side a bundled drawing shows working ("left", "right", or "" for both or
    # neither): a program for the other side shows it mirrored, so the picture matches
    # the side the patient works.
    side = models.CharField(max_length=5, blank=True, editable=False)
    alt_text = models.CharField(
        max_length=250, help_text="Describes the picture for screen readers."
    )
    is_main = models.BooleanField(default=False)
    credit = models.CharField(max_length=200, blank=True, help_text="Author and licence.")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-is_main", "order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["exercise"], condition=models.Q(is_main=True), name="one_main_image"
            )
        ]

    def __str__(self):
        return self.alt_text


def video_signature(exercise: Exercise) -> str:
    """The short signature in a clinic exercise's printed video link (``/v/<slug>/<sig>``):
    only that clinic's handouts carry it, so a private exercise's slug cannot be probed.
    48 bits: short enough to type from paper, far too many to guess."""
    digest = salted_hmac(
        "openhep.video-link", f"{exercise.pk}:{exercise.slug}", algorithm="sha256"
    ).digest()
    return base64.urlsafe_b64encode(digest[:6]).decode()


def video_signature_accepted(exercise: Exercise, signature: str) -> bool:
    """Whether ``signature`` opens a clinic exercise's video link: the one this
    installation prints, or one its handouts carried before the clinic moved here
    (kept from the source's archive: computed there under its own secret key, so
    still not to be made here by anyone)."""
    accepted = [video_signature(exercise), *exercise.moved_video_signatures]
    # Every one compared, so the time taken does not say which matched.
    return any(
        [isinstance(known, str) and constant_time_compare(signature, known) for known in accepted]
    )


def is_https_address(url: str) -> bool:
    """An https address with a host: the only kind of video link a clinic can add, and
    the only kind a page links to or the short link redirects to."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme == "https" and bool(parts.hostname)


def is_known_video_host(host: str) -> bool:
    """A host on ``OPENHEP_VIDEO_HOSTS`` (or a subdomain of one): redirected to directly."""
    host = host.lower().rstrip(".")
    return any(
        host == known or host.endswith("." + known) for known in settings.OPENHEP_VIDEO_HOSTS
    )


class Favourite(models.Model):
    """An exercise a staff member starred, to find it first in the builder's library.
    Theirs alone (not the clinic's), and no patient data: not audited."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favourites"
    )
    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="favourited")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "exercise"], name="favourite_once")]

    def __str__(self):
        return f"{self.exercise} ★ {self.user}"


def clinic_media_key() -> str:
    """The key in a clinic medium's printed link (``/m/<key>``): 48 random bits, eight
    characters, short enough to type from paper and far too many to guess. Random
    rather than derived from the row's id, so it moves with the clinic (clinic_import)
    and a replaced video keeps the links already printed."""
    return secrets.token_urlsafe(6)


def clinic_media_path(instance, filename):
    """Private (the default storage), under a name no one can guess."""
    extension = PurePosixPath(filename).suffix.lower()[:6]
    return f"clinic-media/{instance.clinic_id}/{secrets.token_urlsafe(16)}{extension}"


class ClinicMedia(models.Model):
    """A clinic's own photo, video file or video link for an exercise it uses: the
    shared library's or its own. Only that clinic's staff and the patients it gives
    the printed link to ever see it; the exercise itself is not changed."""

    class Kind(models.TextChoices):
        PHOTO = "photo", "Photo"
        VIDEO = "video", "Video file"
        LINK = "link", "Video link"

    VIDEO_KINDS = (Kind.VIDEO, Kind.LINK)

    clinic = models.ForeignKey(
        "clinic.Clinic", on_delete=models.CASCADE, related_name="exercise_media"
    )
    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="clinic_media")
    kind = models.CharField(max_length=5, choices=Kind)
    key = models.CharField(max_length=16, unique=True, default=clinic_media_key, editable=False)
    file = models.FileField(upload_to=clinic_media_path, blank=True, editable=False)
    content_type = models.CharField(max_length=40, blank=True, editable=False)
    size = models.PositiveBigIntegerField("size (bytes)", default=0, editable=False)
    seconds = models.PositiveIntegerField("length (seconds)", null=True, blank=True)
    url = models.URLField("video link", max_length=500, blank=True)
    caption = models.CharField(
        max_length=250,
        blank=True,
        help_text="A photo: what it shows, for screen readers. A video: its title.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["exercise", "kind", "created_at", "pk"]
        verbose_name = "clinic media"
        verbose_name_plural = "clinic media"
        indexes = [models.Index(fields=["clinic", "exercise"], name="clinic_media_exercise_idx")]
        constraints = [
            # One video per clinic and exercise: a file or a link. Replacing it keeps
            # the row (and the key its printed links carry).
            models.UniqueConstraint(
                fields=["clinic", "exercise"],
                condition=models.Q(kind__in=["video", "link"]),
                name="clinic_media_one_video",
            ),
            models.CheckConstraint(
                condition=(models.Q(kind="link") & ~models.Q(url="") & models.Q(file=""))
                | (models.Q(kind__in=["photo", "video"]) & ~models.Q(file="") & models.Q(url="")),
                name="clinic_media_file_or_link",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} of {self.exercise} ({self.clinic})"

    @property
    def is_video(self) -> bool:
        return self.kind in self.VIDEO_KINDS

    @property
    def safe_url(self) -> str:
        """The link, when it is an https address; empty otherwise. The form takes nothing
        else, but a row can also come from a clinic archive or the shell: a page never
        links to a ``javascript:`` or ``data:`` address."""
        return self.url if is_https_address(self.url) else ""

    @property
    def length_label(self) -> str:
        """ "1 min 05 s", "45 s" or "" when unknown."""
        if self.seconds is None:
            return ""
        minutes, seconds = divmod(self.seconds, 60)
        return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"
