import datetime

from django.conf import settings
from django.db.models import Exists, Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone

from clinic.access import clinic_of
from clinic.models import Patient
from exercises.dose import Dose
from exercises.illustrations import picture_aspect
from exercises.models import (
    Category,
    ClinicMedia,
    Exercise,
    ExerciseImage,
    ExerciseStep,
    video_signature,
)
from exercises.wording import fill
from outcomes.models import Schedule
from outcomes.selectors import measures_for
from outcomes.templatetags.outcome_tags import words_for
from prescriptions.models import (
    Delivery,
    DosePreset,
    Prescription,
    PrescriptionItem,
    ProgramTemplate,
)

# 2: the dose line without the side, the side on its own line, {hold} filled in,
# the therapist's first name for their note. 3: progress, each questionnaire's first and
# latest score when the therapist asks for them (empty otherwise).
SNAPSHOT_VERSION = 3


def _items():
    return Prefetch(
        "items",
        queryset=PrescriptionItem.objects.select_related("exercise").prefetch_related(
            Prefetch("exercise__steps", queryset=ExerciseStep.objects.order_by("order", "pk")),
            Prefetch(
                "exercise__images",
                queryset=ExerciseImage.objects.filter(is_main=True),
                to_attr="main",
            ),
        ),
    )


def templates_for(user) -> QuerySet[ProgramTemplate]:
    """The shared templates and the user's clinic's own."""
    clinic = clinic_of(user)
    return ProgramTemplate.objects.filter(Q(clinic__isnull=True) | Q(clinic=clinic)).order_by(
        "clinic", "name"
    )


def get_template_for(user, pk) -> ProgramTemplate:
    return get_object_or_404(templates_for(user), pk=pk)


def prescriptions_for(user) -> QuerySet[Prescription]:
    return Prescription.objects.filter(clinic=clinic_of(user))


def with_versions(prescriptions: QuerySet[Prescription]) -> QuerySet[Prescription]:
    """``has_later`` on each row, for ``Prescription.version_label`` ("v1" once a later
    version exists): one subquery in the list's own query, not a query per row."""
    later = Prescription.objects.filter(supersedes=OuterRef("pk"))
    return prescriptions.annotate(has_later=Exists(later))


def _with_everything(prescriptions: QuerySet[Prescription]) -> QuerySet[Prescription]:
    return (
        with_versions(prescriptions)
        .select_related("patient", "therapist__membership", "clinic", "handout")
        .prefetch_related(_items(), Prefetch("deliveries", queryset=Delivery.objects.all()))
    )


def get_prescription_for(user, pk) -> Prescription:
    """One prescription of the user's clinic with everything its pages and handout show."""
    return get_object_or_404(_with_everything(prescriptions_for(user)), pk=pk)


# What serving a handout reads, and nothing else: the draft or issued state, the
# patient for the audit row, and the stored file's name and state. The page shown
# while a handout is drawn also names the program and a failed drawing's reason.
DOWNLOAD_FIELDS = (
    "status",
    "title",
    "clinic_id",
    "patient__clinic_id",
    "handout__prescription_id",
    "handout__pdf",
    "handout__status",
    "handout__last_error",
)


def get_prescription_to_download(user, pk) -> Prescription:
    """Just what serving a handout needs: stored bytes for issued ones, one query.

    Only the columns above. Not the stored snapshot (a JSON document of every
    exercise as printed, 12 kB for 8 exercises), nor the patient's record or the
    program's notes: every download reads this row, and each further column is
    converted to Python for nothing (about a third of the query's time).
    """
    prescriptions = prescriptions_for(user).select_related("patient", "handout")
    return get_object_or_404(prescriptions.only(*DOWNLOAD_FIELDS), pk=pk)


def prescription_for_handout(pk) -> Prescription:
    """Freshly loaded for rendering (never a view's copy, whose items may be stale).

    Callers have already checked access with ``get_prescription_for``.
    """
    return _with_everything(Prescription.objects.all()).get(pk=pk)


def recent_prescriptions(*, user, limit: int = 15) -> QuerySet[Prescription]:
    return (
        with_versions(prescriptions_for(user))
        .filter(therapist=user)
        .select_related("patient")
        .order_by("-updated_at", "-pk")[:limit]
    )


# How many of a therapist's programs "Recently used" looks into (the latest changed):
# enough for a week's patients, and a bounded read however long they have worked here.
RECENT_PROGRAMS = 30


def recently_used(*, user, limit: int = 8) -> list[Exercise]:
    """The last ``limit`` distinct exercises ``user`` put in a program of their clinic,
    latest first, that can still be prescribed (published, the shared library or the
    clinic's own). One query; it reads only their ``RECENT_PROGRAMS`` latest programs."""
    clinic = clinic_of(user)
    programs = (
        Prescription.objects.filter(clinic=clinic, therapist=user)
        .order_by("-updated_at", "-id")
        .values("pk")[:RECENT_PROGRAMS]
    )
    return list(
        Exercise.objects.published()
        .visible_to(clinic)
        .filter(prescription_items__prescription__in=programs)
        .annotate(last_used=Max("prescription_items__pk"))
        .order_by("-last_used")[:limit]
    )


def patient_prescriptions(*, patient) -> QuerySet[Prescription]:
    prescriptions = with_versions(patient.prescriptions.all())
    return prescriptions.select_related("therapist", "handout").prefetch_related(
        "items", "deliveries"
    )


def video_link(exercise, clinic_video: ClinicMedia | None = None) -> str:
    """The link printed under a video's QR code: our short link when SITE_URL is set.

    The clinic's own video for the exercise (``clinic_video``, a file or a link) comes
    first: ``SITE_URL/m/<key>``, which streams the file or goes to the link. Without
    SITE_URL a clinic's link is printed as it is; its file cannot be (there is no
    address to print), so the library's video is used.
    """
    if clinic_video is not None:
        if settings.SITE_URL:
            return f"{settings.SITE_URL}/m/{clinic_video.key}"
        if clinic_video.kind == ClinicMedia.Kind.LINK:
            return clinic_video.url
    if not exercise.video_url:
        return ""
    if settings.SITE_URL:
        if exercise.clinic_id is not None:
            return f"{settings.SITE_URL}/v/{exercise.slug}/{video_signature(exercise)}"
        return f"{settings.SITE_URL}/v/{exercise.slug}"
    return exercise.video_url


def clinic_videos(clinic, exercise_ids) -> dict[int, ClinicMedia]:
    """The clinic's own video (file or link) of each of these exercises that has one:
    one query, whatever the number of exercises."""
    videos = ClinicMedia.objects.filter(
        clinic=clinic, exercise_id__in=set(exercise_ids), kind__in=ClinicMedia.VIDEO_KINDS
    )
    return {video.exercise_id: video for video in videos}


def patient_deliveries(*, patient) -> QuerySet[Delivery]:
    return Delivery.objects.filter(prescription__patient=patient).select_related(
        "prescription", "requested_by"
    )


def clinic_deliveries(*, clinic, status: str = "") -> QuerySet[Delivery]:
    deliveries = Delivery.objects.filter(clinic=clinic).select_related(
        "prescription__patient", "requested_by"
    )
    return deliveries.filter(status=status) if status else deliveries


def item_snapshot(
    exercise, *, dose, note: str = "", clinic_video: ClinicMedia | None = None
) -> dict:
    """One exercise card as printed. Expects ``exercise.main`` (the main image, prefetched);
    ``clinic_video`` is the clinic's own video for it, if any (``clinic_videos``)."""
    main = exercise.main[0] if getattr(exercise, "main", None) else None

    def printed(text: str) -> str:
        return fill(text, hold_seconds=dose.hold_seconds)

    return {
        "exercise_id": exercise.pk,
        "slug": exercise.slug,
        "name": exercise.name,
        "summary": exercise.summary,
        "dose": dose.amount,
        "side": dose.side_line,
        "dose_fields": dose.as_dict(),
        "setup": printed(exercise.setup),
        "steps": [printed(step.text) for step in exercise.steps.all()],
        "cues": [printed(cue) for cue in exercise.cue_list],
        "cautions": [printed(caution) for caution in exercise.caution_list],
        "note": note,
        "video_url": _video_url(exercise, clinic_video),
        "video_link": video_link(exercise, clinic_video),
        "image": (
            {
                "name": main.image.name,
                "alt": main.alt_text,
                "aspect": picture_aspect(main.image),
                "animation": main.animation.name or "",
                # A drawing of one side, for a program of the other side, is mirrored.
                "mirror": bool(main.side)
                and dose.side in ("left", "right")
                and dose.side != main.side,
            }
            if main
            else None
        ),
    }


def _video_url(exercise, clinic_video: ClinicMedia | None) -> str:
    """The video's own address: the clinic's link, its file's short link, or the library's."""
    if clinic_video is None:
        return exercise.video_url
    if clinic_video.kind == ClinicMedia.Kind.LINK:
        return clinic_video.url
    return video_link(exercise, clinic_video) or exercise.video_url


def exercise_preview_snapshot(exercise) -> dict:
    """A one-exercise handout for curators: how the exercise prints, with its default dose."""
    exercise.main = [image for image in exercise.images.all() if image.is_main]
    today = timezone.localdate().isoformat()
    return {
        "version": SNAPSHOT_VERSION,
        "prescription_id": None,
        "title": exercise.name,
        "advice": "",
        "issued_on": today,
        "review_date": None,
        "large_print": False,
        "log_days": [],
        "patient": {"name": "Patient name"},
        "therapist": {"name": "Therapist name", "first_name": "Therapist", "title": ""},
        "clinic": {
            "name": exercise.clinic.name if exercise.clinic else "OpenHEP exercise library",
            "phone": "",
            "email": "",
            "website": "",
            "address": "",
            "logo": None,
            "footer": "Preview of a library exercise.",
            "paper_size": "A4",
            "brand_colour": exercise.clinic.brand_colour if exercise.clinic else "#0f5e6e",
        },
        "items": [item_snapshot(exercise, dose=exercise.dose)],
        "progress": [],
    }


def handout_snapshot(prescription: Prescription, *, issued_at=None) -> dict:
    """Everything a handout prints, as plain data.

    An issued handout keeps this next to its PDF, so the record of what the
    patient was given never depends on library rows that may change later.
    """
    clinic = prescription.clinic
    therapist = prescription.therapist
    membership = getattr(therapist, "membership", None)
    issued = timezone.localdate(issued_at) if issued_at else timezone.localdate()
    entries = list(prescription.items.all())
    videos = clinic_videos(clinic, [item.exercise_id for item in entries])
    items = [
        item_snapshot(
            item.exercise, dose=item.dose, note=item.note, clinic_video=videos.get(item.exercise_id)
        )
        for item in entries
    ]
    return {
        "version": SNAPSHOT_VERSION,
        "prescription_id": prescription.pk,
        "title": prescription.title,
        "advice": prescription.advice,
        "issued_on": issued.isoformat(),
        "review_date": prescription.review_date.isoformat() if prescription.review_date else None,
        "large_print": prescription.large_print,
        "log_days": [
            (issued + datetime.timedelta(days=n)).isoformat()
            for n in range(7 * prescription.log_weeks)
        ],
        "patient": {"name": prescription.patient.display_name},
        "therapist": {
            "name": therapist.get_full_name() or therapist.email,
            "first_name": therapist.first_name or therapist.get_full_name() or therapist.email,
            "title": membership.title if membership else "",
        },
        "clinic": {
            "name": clinic.name,
            "phone": clinic.phone,
            "email": clinic.email,
            "website": clinic.website,
            "address": clinic.address,
            "footer": clinic.handout_footer,
            "paper_size": clinic.paper_size,
            "brand_colour": clinic.brand_colour,
            "logo": clinic.logo.name if clinic.logo else None,
        },
        "items": items,
        "progress": progress_snapshot(prescription, issued_at) if prescription.print_scores else [],
    }


def _number(value) -> str:
    """A score as printed: no trailing ".0" on a whole number."""
    text = f"{value.normalize():f}"
    return "0" if text == "-0" else text


def _signed(value) -> str:
    return f"+{_number(value)}" if value > 0 else _number(value)


def progress_snapshot(prescription: Prescription, issued_at=None) -> list[dict]:
    """Each questionnaire the patient answered (until ``issued_at``, so the issue's check
    of the snapshot finds the same): its first and latest score and the change, as text."""
    rows = []
    for measure in measures_for(prescription.patient, until=issued_at):
        if measure.latest is None:
            continue
        first, latest = measure.baseline, measure.latest
        assert first is not None
        rows.append(
            {
                "title": measure.questionnaire.short_title,
                "first": _number(first.score),
                "first_on": timezone.localdate(first.answered_at).isoformat(),
                "latest": _number(latest.score),
                "latest_words": words_for(measure.definition, latest.score),
                "latest_on": timezone.localdate(latest.answered_at).isoformat(),
                "change": None if measure.change is None else _signed(measure.change),
                "range": [int(v) for v in measure.score_range],
                "higher_is_better": bool(measure.definition["scoring"]["higher_is_better"]),
                "verdict": measure.verdict,
                "is_rating_of_change": measure.is_change_measure,
            }
        )
    return rows


def active_schedules(prescription: Prescription) -> list[Schedule]:
    """The questionnaires this program version still asks for."""
    return list(
        Schedule.objects.filter(
            prescription=prescription, stopped_at=None, questionnaire__is_active=True
        )
        .select_related("questionnaire")
        .order_by("pk")
    )


def dose_presets_for(clinic) -> list[tuple[Category, DosePreset | None]]:
    """Every category, in order, with the clinic's preset dose for it (or ``None``)."""
    presets = {p.category_id: p for p in DosePreset.objects.filter(clinic=clinic)}
    return [(category, presets.get(category.pk)) for category in Category.objects.all()]


def starting_dose(*, clinic, exercise) -> Dose:
    """The dose an exercise starts with in a plan: the clinic's preset for the exercise's
    first category (by the categories' order) if it set one, else the exercise's own."""
    first = exercise.categories.order_by("order", "name", "pk").values("pk")[:1]
    preset = DosePreset.objects.filter(clinic=clinic, category=Subquery(first)).first()
    return preset.dose if preset is not None else exercise.dose


def add_to_program_choices(*, user, limit: int = 30) -> dict:
    """Whom the exercise page's "Add to a patient's program" offers: the clinic's patients
    with an open draft (its latest draft named), then the user's recent patients without
    one (a new draft for them). Two queries, at most ``limit`` of each."""
    drafts = (
        prescriptions_for(user)
        .filter(status=Prescription.Status.DRAFT, patient__archived=False)
        .select_related("patient")
        .order_by("-updated_at", "-pk")[: limit * 2]
    )
    with_draft: dict[int, Prescription] = {}
    for rx in drafts:
        with_draft.setdefault(rx.patient_id, rx)
    recent = (
        prescriptions_for(user)
        .filter(therapist=user, patient__archived=False)
        .exclude(patient_id__in=with_draft)
        .select_related("patient")
        .order_by("-updated_at", "-pk")[: limit * 3]
    )
    others: dict[int, Patient] = {}
    for rx in recent:
        others.setdefault(rx.patient_id, rx.patient)
    return {
        "drafts": list(with_draft.values())[:limit],
        "others": list(others.values())[:limit],
    }


def open_draft_of(patient) -> Prescription | None:
    """The patient's draft last worked on, if any."""
    drafts = patient.prescriptions.filter(status=Prescription.Status.DRAFT)
    return drafts.order_by("-updated_at", "-pk").first()
