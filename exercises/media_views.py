"""A clinic's own photos and video for an exercise: the staff's forms on the exercise
page, the staff's view of the files, and the short link a handout prints."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.cache import patch_cache_control
from django.views import View

from clinic.access import ClinicStaffMixin
from clinic.audit import Actor
from clinic.storage import private_media_response
from exercises.media_forms import ClinicPhotoForm, ClinicVideoForm, ClinicVideoLinkForm
from exercises.media_services import (
    clinic_media_remove,
    clinic_photo_add,
    clinic_video_link_save,
    clinic_video_save,
)
from exercises.models import ClinicMedia
from exercises.selectors import get_clinic_media_for, get_exercise_for, get_public_clinic_media
from exercises.views import ExerciseDetailView, video_address_response

SECTION = "#clinic-media"


class _MediaFormView(ExerciseDetailView):
    """Posts one of the section's forms: a change, then back to the section; a refusal
    shows the exercise page again with the form's messages."""

    http_method_names = ["get", "post"]
    form_class: type = ClinicPhotoForm
    context_name = ""

    def get(self, request, slug):
        """The forms live on the exercise page (a reload after a refusal lands here)."""
        return redirect(get_exercise_for(request.user, slug).get_absolute_url() + SECTION)

    def post(self, request, slug):
        exercise = get_exercise_for(request.user, slug)
        form = self.form_class(request.POST, request.FILES)
        if form.is_valid():
            try:
                message = self.save(form, exercise)
            except ValidationError as refused:
                form.add_error(None, refused)
            else:
                messages.success(request, message)
                return HttpResponseRedirect(exercise.get_absolute_url() + SECTION)
        context = self.get_context_data(slug=slug, **{self.context_name: form})
        return self.render_to_response(context, status=400)

    def save(self, form, exercise) -> str:
        raise NotImplementedError


class ClinicPhotoAddView(_MediaFormView):
    form_class = ClinicPhotoForm
    context_name = "photo_form"

    def save(self, form, exercise) -> str:
        clinic_photo_add(
            clinic=self.clinic,
            exercise=exercise,
            photo=form.cleaned_data["photo"],
            caption=form.cleaned_data["caption"],
            actor=Actor.of(self.request),
        )
        return "Photo added. Only your clinic sees it."


class ClinicVideoUploadView(_MediaFormView):
    form_class = ClinicVideoForm
    context_name = "video_form"

    def save(self, form, exercise) -> str:
        assert form.info is not None
        clinic_video_save(
            clinic=self.clinic,
            exercise=exercise,
            video=form.cleaned_data["video"],
            info=form.info,
            caption=form.cleaned_data["caption"],
            actor=Actor.of(self.request),
        )
        return "Video saved. Handouts printed from now on link to it."


class ClinicVideoLinkView(_MediaFormView):
    form_class = ClinicVideoLinkForm
    context_name = "link_form"

    def save(self, form, exercise) -> str:
        clinic_video_link_save(
            clinic=self.clinic,
            exercise=exercise,
            url=form.cleaned_data["url"],
            caption=form.cleaned_data["caption"],
            actor=Actor.of(self.request),
        )
        return "Video link saved. Handouts printed from now on link to it."


class ClinicMediaRemoveView(ClinicStaffMixin, View):
    http_method_names = ["post"]

    def post(self, request, slug, pk):
        exercise = get_exercise_for(request.user, slug)
        media = get_clinic_media_for(request.user, exercise, pk)
        clinic_media_remove(media=media, actor=Actor.of(request))
        messages.success(request, f"{media.get_kind_display()} removed.")
        return redirect(exercise.get_absolute_url() + SECTION)


class ClinicMediaFileView(ClinicStaffMixin, View):
    """A clinic photo or video file, for its own staff (the exercise page shows them)."""

    http_method_names = ["get"]

    def get(self, request, slug, pk):
        exercise = get_exercise_for(request.user, slug)
        media = get_clinic_media_for(request.user, exercise, pk)
        if not media.file:
            raise Http404("No file.")
        return _file_response(request, media)


def _file_response(request, media: ClinicMedia):
    try:
        response = private_media_response(
            request,
            media.file,
            filename=f"{media.exercise.slug}{_extension(media)}",
            content_type=media.content_type or "application/octet-stream",
        )
    except FileNotFoundError:
        raise Http404("The file is missing.") from None
    if response.status_code in (301, 302):
        # A bucket's signed address lasts a minute: never kept longer than that.
        patch_cache_control(response, private=True, no_store=True)
    else:
        patch_cache_control(response, private=True, max_age=600)
    return response


def _extension(media: ClinicMedia) -> str:
    name = media.file.name or ""
    return "." + name.rsplit(".", 1)[-1] if "." in name else ""


def clinic_media_link(request, key):
    """The short link printed under a handout's QR code for a clinic's own video
    (``/m/<key>``). Public: patients never log in, and the key (48 random bits) is
    printed only on that clinic's handouts. A video file is streamed (ranges
    answered, so phones can seek); a link behaves as the library's video links do:
    known video hosts are redirected to, any other address gets a page naming where
    it goes."""
    media = get_public_clinic_media(key)
    if media.kind == ClinicMedia.Kind.VIDEO:
        return _file_response(request, media)
    if media.kind != ClinicMedia.Kind.LINK or not media.safe_url:
        raise Http404("No video here.")
    response = video_address_response(request, media.exercise, media.safe_url)
    # Short: a replaced link should reach phones soon.
    patch_cache_control(response, private=True, max_age=600)
    return response
