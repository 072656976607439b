from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.views.decorators.cache import cache_control
from django.views.generic import TemplateView

from clinic.access import ClinicStaffMixin
from exercises.models import Exercise
from exercises.selectors import exercise_filters, exercise_search, get_exercise_for

SEARCH_PARAMS = ("q", "region", "category", "equipment", "position")


def search_params(request) -> dict:
    return {name: request.GET.get(name, "").strip()[:100] for name in SEARCH_PARAMS}


def search_page(request, clinic, per_page: int = 24):
    params = search_params(request)
    exercises = exercise_search(
        clinic=clinic,
        query=params["q"],
        region=params["region"],
        category=params["category"],
        equipment=params["equipment"],
        position=params["position"],
    )
    page = Paginator(exercises, per_page).get_page(request.GET.get("page"))
    return params, page


class ExerciseListView(ClinicStaffMixin, TemplateView):
    template_name = "exercises/list.html"

    def get_context_data(self, **kwargs):
        params, page = search_page(self.request, self.clinic)
        return super().get_context_data(
            params=params, page=page, filters=exercise_filters(), **kwargs
        )


class ExerciseDetailView(ClinicStaffMixin, TemplateView):
    template_name = "exercises/detail.html"

    def get_context_data(self, **kwargs):
        exercise = get_exercise_for(self.request.user, kwargs["slug"])
        return super().get_context_data(exercise=exercise, **kwargs)


@cache_control(public=True, max_age=3600)
def video_redirect(request, slug):
    """The short link printed under a handout's QR code. Public: patients never log in,
    and it reveals only an exercise's video address, never patient data."""
    exercise = get_object_or_404(
        Exercise.objects.exclude(status=Exercise.Status.DRAFT).exclude(video_url=""), slug=slug
    )
    if not exercise.video_url.startswith(("https://", "http://")):
        raise Http404("No video for this exercise.")
    return HttpResponseRedirect(exercise.video_url)
