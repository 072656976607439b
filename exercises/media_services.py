"""Writes to a clinic's own photos and video for an exercise (``ClinicMedia``).

Each is a clinic settings change in the audit trail (the clinic's own material,
no patient's), written by the service in its own transaction. A file is stored
first and removed again when the transaction fails; a replaced or removed file
goes only once the change is committed, so a failure never loses the old one.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from clinic.audit import Actor, audit_record
from clinic.models import AuditEntry, Clinic
from exercises.models import ClinicMedia, Exercise
from exercises.video_probe import VideoInfo


def _audit(*, actor: Actor, media: ClinicMedia, what: str) -> None:
    audit_record(
        actor=actor,
        action=AuditEntry.Action.SETTINGS,
        clinic=media.clinic,
        target=f"clinic media {media.pk}",
        detail=f"{what}: exercise {media.exercise.slug}",
    )


def _delete_later(file) -> None:
    """Remove a stored file once the surrounding transaction commits."""
    storage, name = file.storage, file.name
    if name:
        transaction.on_commit(lambda: storage.delete(name))


class _Stored:
    """Removes the file just stored when the block fails (the row was not saved)."""

    def __init__(self, media: ClinicMedia):
        self.media = media
        self.name = ""

    def save(self, upload, extension: str) -> None:
        self.media.file.save(f"upload{extension}", upload, save=False)
        self.name = self.media.file.name or ""

    def __enter__(self):
        return self

    def __exit__(self, kind, error, trace):
        if error is not None and self.name:
            self.media.file.storage.delete(self.name)


def clinic_photo_add(
    *, clinic: Clinic, exercise: Exercise, photo, caption: str, actor: Actor
) -> ClinicMedia:
    """Add a photo (already checked and re-encoded: ``ClinicPhotoForm``) to the clinic's
    material for ``exercise``; at most ``OPENHEP_CLINIC_PHOTOS_PER_EXERCISE``."""
    with transaction.atomic():
        # The clinic's row is the lock: two photos added at once are counted in turn.
        Clinic.objects.select_for_update().filter(pk=clinic.pk).first()
        photos = ClinicMedia.objects.filter(
            clinic=clinic, exercise=exercise, kind=ClinicMedia.Kind.PHOTO
        )
        most = settings.OPENHEP_CLINIC_PHOTOS_PER_EXERCISE
        if photos.count() >= most:
            raise ValidationError(
                f"An exercise can have {most} of your clinic's photos; remove one first."
            )
        media = ClinicMedia(
            clinic=clinic,
            exercise=exercise,
            kind=ClinicMedia.Kind.PHOTO,
            caption=caption,
            created_by=actor.user,
            content_type=getattr(photo, "content_type", "") or "",
            size=photo.size,
        )
        with _Stored(media) as stored, transaction.atomic():
            stored.save(
                photo, "." + (photo.name.rsplit(".", 1)[-1] if "." in photo.name else "jpg")
            )
            media.save()
            _audit(actor=actor, media=media, what="Photo added")
    return media


def _current_video(clinic: Clinic, exercise: Exercise) -> ClinicMedia | None:
    return (
        ClinicMedia.objects.select_for_update()
        .filter(clinic=clinic, exercise=exercise, kind__in=ClinicMedia.VIDEO_KINDS)
        .first()
    )


def clinic_video_save(
    *, clinic: Clinic, exercise: Exercise, video, info: VideoInfo, caption: str, actor: Actor
) -> ClinicMedia:
    """Set the clinic's video file for ``exercise`` (checked by ``ClinicVideoForm``:
    ``info`` is what its content showed). A video or link already there is replaced in
    place, so the handouts already printed with its link open the new one."""
    with transaction.atomic():
        media, replacing = _video_row(clinic, exercise, actor)
        media.kind = ClinicMedia.Kind.VIDEO
        media.url = ""
        media.caption = caption
        media.content_type = info.content_type
        media.size = video.size
        media.seconds = round(info.seconds)
        with _Stored(media) as stored, transaction.atomic():
            stored.save(video, info.extension)
            media.save()
            _audit(
                actor=actor,
                media=media,
                what="Video file replaced" if replacing else "Video file added",
            )
    return media


@transaction.atomic
def clinic_video_link_save(
    *, clinic: Clinic, exercise: Exercise, url: str, caption: str, actor: Actor
) -> ClinicMedia:
    """Set the clinic's video link for ``exercise`` (an https address), replacing a
    video file or link already there in place (its printed links stay good)."""
    media, replacing = _video_row(clinic, exercise, actor)
    media.kind = ClinicMedia.Kind.LINK
    media.file = ""
    media.url = url
    media.caption = caption
    media.content_type = ""
    media.size = 0
    media.seconds = None
    media.save()
    _audit(
        actor=actor, media=media, what="Video link replaced" if replacing else "Video link added"
    )
    return media


@transaction.atomic
def clinic_media_remove(*, media: ClinicMedia, actor: Actor) -> None:
    """Remove a photo, video file or link; its file goes once this is committed. The
    link printed on handouts for a removed video then opens nothing."""
    what = f"{media.get_kind_display()} removed"
    _audit(actor=actor, media=media, what=what)
    if media.file:
        _delete_later(media.file)
    media.delete()


def _video_row(clinic: Clinic, exercise: Exercise, actor: Actor) -> tuple[ClinicMedia, bool]:
    """The clinic's one video row for ``exercise`` (the clinic locked, so two saves do not
    make two), new or the one to replace in place, and whether it replaces one; a file it
    held is deleted once the change is committed."""
    Clinic.objects.select_for_update().filter(pk=clinic.pk).first()
    media = _current_video(clinic, exercise)
    if media is None:
        return ClinicMedia(clinic=clinic, exercise=exercise, created_by=actor.user), False
    if media.file:
        _delete_later(media.file)
    return media, True
