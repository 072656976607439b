"""The builder's Templates box: a template's exercises shown before they are added
(an htmx partial, or the "Preview" button without JavaScript), and "Undo" after "Add
its exercises". The builder view (``prescriptions.views``) calls the helpers here.

Both the preview asked for without JavaScript and the undo offer are shown once by
the next render of the builder; the undo record itself stays in the session until it
is used or another template is applied (``prescriptions.services.template_undo``).
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import render
from django.views import View

from clinic.access import ClinicStaffMixin
from clinic.audit import Actor
from exercises.dose import plural
from exercises.models import Exercise
from prescriptions.selectors import get_prescription_for, get_template_for
from prescriptions.services.template_undo import template_apply_undo, template_apply_undoable

UNDO = "builder_template_undo"  # the record of the last template applied
SHOW = "builder_template_show"  # what the next render of the builder shows once


def _template_id(value: str) -> int:
    if not (value.isascii() and value.isdigit()):
        raise Http404("No such template.")
    return int(value)


def template_preview(user, prescription, template_id) -> dict:
    """A template's exercises with their doses, as "Add its exercises" would add them:
    those already in the plan stay as they are, retired ones are left out."""
    template = get_template_for(user, template_id)
    present = {item.exercise_id for item in prescription.items.all()}
    rows = []
    for item in template.items.select_related("exercise"):
        if item.exercise.status != Exercise.Status.PUBLISHED:
            state = "retired"
        elif item.exercise_id in present:
            state = "present"
        else:
            state = "new"
        rows.append({"item": item, "state": state})
    return {"template": template, "rows": rows}


def apply_template(request, prescription, template, actor: Actor):
    """Apply ``template`` and keep what it added, so the builder can offer "Undo"."""
    applied = template_apply_undoable(prescription=prescription, template=template, actor=actor)
    if applied.record["items"] or applied.record["advice"]:
        request.session[UNDO] = applied.record
        request.session[SHOW] = {"prescription": prescription.pk, "undo": True}
    return applied.appended


def preview_button(request, prescription) -> None:
    """The "Preview" button (without JavaScript): show the chosen template next time."""
    value = request.POST.get("template", "")
    if not value:
        raise ValidationError("Choose a template first.")
    get_template_for(request.user, _template_id(value))
    request.session[SHOW] = {"prescription": prescription.pk, "preview": int(value)}


def undo_button(request, prescription, actor: Actor) -> None:
    record = request.session.get(UNDO)
    if not record or record.get("prescription") != prescription.pk:
        raise ValidationError("There is nothing to undo.")
    del request.session[UNDO]
    undone = template_apply_undo(prescription=prescription, record=record, actor=actor)
    text = f"Undone: removed {plural(undone.removed, 'exercise')} of “{record['name']}”."
    if undone.kept:
        text += f" Kept because you changed them since: {', '.join(undone.kept)}."
    messages.success(request, text)


def builder_context(request, prescription) -> dict:
    """What the Templates box shows on this render: a preview, or the undo offer."""
    show = request.session.pop(SHOW, None)
    if not show or show.get("prescription") != prescription.pk:
        return {}
    if show.get("undo"):
        record = request.session.get(UNDO)
        return {"template_undo": record} if record else {}
    try:
        preview = template_preview(request.user, prescription, show.get("preview"))
    except Http404:
        return {}
    return {"template_preview": preview}


class TemplatePreviewView(ClinicStaffMixin, View):
    """The Templates box's preview of the chosen template (htmx, on choosing it)."""

    def get(self, request, pk):
        prescription = get_prescription_for(request.user, pk)
        value = request.GET.get("template", "")
        context = {"prescription": prescription}
        if value:
            context["template_preview"] = template_preview(
                request.user, prescription, _template_id(value)
            )
        return render(request, "prescriptions/partials/template_preview.html", context)
