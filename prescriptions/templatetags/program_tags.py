from django import template

from exercises.models import Exercise
from prescriptions.selectors import add_to_program_choices

register = template.Library()


@register.inclusion_tag("prescriptions/partials/title.html")
def program_title(rx) -> dict:
    """A program's title with its version ("v2") once it has more than one version."""
    return {"title": rx.title, "version": rx.version_label}


@register.inclusion_tag("prescriptions/partials/add_to_program.html", takes_context=True)
def add_to_program(context, exercise) -> dict:
    """The exercise page's "Add to a patient's program" form (published exercises only)."""
    if exercise.status != Exercise.Status.PUBLISHED:
        return {"exercise": None}
    request = context["request"]
    return {
        "exercise": exercise,
        "csrf_token": context.get("csrf_token"),
        **add_to_program_choices(user=request.user),
    }
