from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.cache import cache_control
from django.views.generic import FormView, TemplateView

from clinic.access import ClinicStaffMixin
from exercises.favourites import favourite_ids, favourite_set, is_favourite
from exercises.forms import ExerciseForm, LibrarySearchForm
from exercises.media_forms import ClinicPhotoForm, ClinicVideoForm, ClinicVideoLinkForm
from exercises.models import (
    ClinicMedia,
    Exercise,
    is_known_video_host,
    video_signature_accepted,
)
from exercises.selectors import (
    clinic_media_of,
    exercise_search_page,
    get_clinic_exercise_for,
    get_exercise_for,
    progression,
)
from exercises.services import clinic_exercise_save, exercise_copy_to_clinic
from exercises.wording import fill


def search_page(request, clinic, per_page: int = 24):
    """The library's search form, read from the query string, and the page of results."""
    form = LibrarySearchForm(request.GET)
    terms = form.terms()
    starred = favourite_ids(request.user)
    page = exercise_search_page(
        clinic=clinic,
        number=form.page_number,
        per_page=per_page,
        query=terms.pop("q"),
        favourites=starred,
        favourites_only=form.favourites_only,
        **terms,
    )
    # The cards' stars read the same ids the order was made from.
    vars(page).update(favourite_ids=starred)
    return form, page


class ExerciseListView(ClinicStaffMixin, TemplateView):
    template_name = "exercises/list.html"

    def get_context_data(self, **kwargs):
        search_form, page = search_page(self.request, self.clinic)
        return super().get_context_data(
            search_form=search_form,
            page=page,
            favourite_ids=page.favourite_ids,
            **kwargs,
        )


class ExerciseDetailView(ClinicStaffMixin, TemplateView):
    template_name = "exercises/detail.html"

    def get_context_data(self, **kwargs):
        exercise = get_exercise_for(self.request.user, kwargs["slug"])
        favourite = {exercise.pk} if is_favourite(self.request.user, exercise) else set()
        chain = progression(exercise, self.clinic)
        hold = exercise.hold_seconds
        # The texts as they print with the default dose: "{hold}" becomes its hold time.
        texts = {
            "setup": fill(exercise.setup, hold_seconds=hold),
            "steps": [fill(step.text, hold_seconds=hold) for step in exercise.steps.all()],
            "cues": [fill(cue, hold_seconds=hold) for cue in exercise.cue_list],
            "cautions": [fill(text, hold_seconds=hold) for text in exercise.caution_list],
        }
        media = clinic_media_of(self.clinic, exercise)
        photos = [m for m in media if m.kind == ClinicMedia.Kind.PHOTO]
        kwargs.setdefault("photo_form", ClinicPhotoForm())
        kwargs.setdefault("video_form", ClinicVideoForm())
        kwargs.setdefault("link_form", ClinicVideoLinkForm())
        return super().get_context_data(
            exercise=exercise,
            texts=texts,
            clinic_photos=photos,
            clinic_video=next((m for m in media if m.is_video), None),
            photos_left=max(0, settings.OPENHEP_CLINIC_PHOTOS_PER_EXERCISE - len(photos)),
            favourite_ids=favourite,
            progression=chain if len(chain) > 1 else [],
            **kwargs,
        )


class FavouriteView(ClinicStaffMixin, View):
    """The star on an exercise: ``on=1`` stars it, ``on=0`` unstars it. htmx gets the
    star back (its button keeps the focus); a plain post goes back where it came from."""

    http_method_names = ["post"]

    def post(self, request, slug):
        exercise = get_exercise_for(request.user, slug)
        on = favourite_set(user=request.user, exercise=exercise, on=request.POST.get("on") == "1")
        if request.htmx:
            context = {
                "exercise": exercise,
                "favourite_ids": {exercise.pk} if on else set(),
                "next": request.POST.get("next", ""),
                "labelled": request.POST.get("labelled") == "1",
            }
            return render(request, "exercises/partials/favourite.html", context)
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            back = exercise.get_absolute_url()
        return redirect(back)


class ClinicExerciseCreateView(ClinicStaffMixin, FormView):
    template_name = "exercises/form.html"
    form_class = ExerciseForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "clinic": self.clinic}

    def form_valid(self, form):
        exercise = clinic_exercise_save(form=form, clinic=self.clinic, by=self.request.user)
        messages.success(self.request, f"{exercise.name} added to your clinic's exercises.")
        return redirect(exercise)


class ClinicExerciseUpdateView(ClinicStaffMixin, FormView):
    template_name = "exercises/form.html"
    form_class = ExerciseForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.exercise = get_clinic_exercise_for(request.user, kwargs["slug"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.exercise, "clinic": self.clinic}

    def get_context_data(self, **kwargs):
        return super().get_context_data(exercise=self.exercise, **kwargs)

    def form_valid(self, form):
        exercise = clinic_exercise_save(form=form, clinic=self.clinic, by=self.request.user)
        messages.success(self.request, "Exercise saved.")
        return redirect(exercise)


class ExerciseCopyView(ClinicStaffMixin, View):
    """Copy a library exercise into the clinic's own, to adapt it."""

    http_method_names = ["post"]

    def post(self, request, slug):
        exercise = get_exercise_for(request.user, slug)
        copy = exercise_copy_to_clinic(exercise=exercise, clinic=self.clinic, by=request.user)
        messages.success(request, "Copied to your clinic's exercises. Adapt it below.")
        return redirect("exercises:edit", slug=copy.slug)


@cache_control(public=True, max_age=3600)
def video_redirect(request, slug, signature=""):
    """The short link printed under a handout's QR code. Public: patients never log in,
    and it reveals only an exercise's video address, never patient data.

    A clinic's own exercise answers only with the signature its handout printed (so
    its slugs cannot be probed). Known video hosts are redirected to; any other
    address gets a page that names where the link goes, so the installation's
    domain never silently forwards to an address a user typed.
    """
    exercise = get_object_or_404(
        Exercise.objects.exclude(status=Exercise.Status.DRAFT).exclude(video_url=""), slug=slug
    )
    if exercise.clinic_id is not None and not video_signature_accepted(exercise, signature):
        raise Http404("No video for this exercise.")
    if exercise.clinic_id is None and signature:
        raise Http404("No video for this exercise.")
    return video_address_response(request, exercise, exercise.video_url)


def video_address_response(request, exercise: Exercise, url: str) -> HttpResponse:
    """Where a printed video link goes (the library's ``/v/`` and a clinic's ``/m/``):
    a known video host is redirected to; any other web address gets a page that names
    where the link goes; anything but a web address is a 404."""
    destination = urlsplit(url)
    if destination.scheme not in ("https", "http") or not destination.hostname:
        raise Http404("No video here.")
    if is_known_video_host(destination.hostname):
        return HttpResponseRedirect(url)
    return render(
        request,
        "exercises/video_leave.html",
        {"exercise": exercise, "url": url, "host": destination.hostname},
    )
