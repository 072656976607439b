"""The forms of a clinic's own photos and video for an exercise (exercises.ClinicMedia)."""

from django import forms
from django.conf import settings

from clinic.forms import clean_picture
from exercises.models import is_https_address
from exercises.video_probe import VideoInfo, VideoProblem, probe_video

MB = 1024 * 1024


def _megabytes(size: int) -> str:
    return f"{size / MB:.1f}".removesuffix(".0")


class ClinicPhotoForm(forms.Form):
    photo = forms.FileField(
        label="Photo",
        help_text="JPEG, PNG or WebP, up to 5 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    caption = forms.CharField(
        label="What the photo shows",
        max_length=250,
        help_text="Read out to patients who cannot see it.",
    )

    prefix = "photo"

    def clean_photo(self):
        return clean_picture(self.cleaned_data["photo"])


class ClinicVideoForm(forms.Form):
    video = forms.FileField(
        label="Video file",
        widget=forms.ClearableFileInput(attrs={"accept": "video/mp4,video/webm"}),
    )
    caption = forms.CharField(label="Title (optional)", max_length=250, required=False)

    prefix = "video"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["video"].help_text = (
            f"MP4 or WebM, up to {settings.OPENHEP_CLINIC_VIDEO_MAX_BYTES // MB} MB and "
            f"{_duration(settings.OPENHEP_CLINIC_VIDEO_MAX_SECONDS)}."
        )
        self.info: VideoInfo | None = None

    def clean_video(self):
        upload = self.cleaned_data["video"]
        limit = settings.OPENHEP_CLINIC_VIDEO_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"The video is {_megabytes(upload.size)} MB; the limit is "
                f"{_megabytes(limit)} MB. Export it shorter or at a lower quality (720p)."
            )
        try:
            self.info = probe_video(upload.file)
        except VideoProblem as problem:
            raise forms.ValidationError(str(problem)) from None
        finally:
            upload.seek(0)
        longest = settings.OPENHEP_CLINIC_VIDEO_MAX_SECONDS
        if self.info.seconds > longest:
            raise forms.ValidationError(
                f"The video runs {_duration(round(self.info.seconds))}; the limit is "
                f"{_duration(longest)}. Trim it and upload it again."
            )
        return upload


class ClinicVideoLinkForm(forms.Form):
    url = forms.URLField(
        label="Video link",
        max_length=500,
        assume_scheme="https",
        help_text="An https:// address, such as your clinic's YouTube or Vimeo video.",
    )
    caption = forms.CharField(label="Title (optional)", max_length=250, required=False)

    prefix = "link"

    def clean_url(self):
        url = self.cleaned_data["url"]
        if not is_https_address(url):
            raise forms.ValidationError("Use a secure link: it must start with https://.")
        return url


def _duration(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    if not minutes:
        return f"{rest} seconds"
    words = f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{words} {rest} seconds" if rest else words
