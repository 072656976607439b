"""The clinic's questionnaires (to read, download, and for admins to import or retire)
and the clinic's outcomes report. Neither shows a patient: the report counts only."""

from __future__ import annotations

import csv
import io
import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.text import slugify
from django.views import View
from django.views.generic import TemplateView

from clinic.access import ClinicAdminMixin, ClinicStaffMixin
from clinic.audit import Actor
from outcomes import definitions
from outcomes.fhir import questionnaire_resource
from outcomes.forms import ImportForm, ReportPeriodForm
from outcomes.selectors import get_questionnaire_for, outcomes_report, questionnaires_for
from outcomes.services import questionnaire_import, questionnaire_set_active

CSV_EXAMPLE = """title,Neck questionnaire
version,1
licence,Used under the clinic's licence of 2026
scoring,sum
higher_is_better,no
mic,5
id,text,type,min,max,min_label,max_label,options,required
pain,How bad is your neck pain today?,integer,0,10,None,Worst imaginable,,yes
sleep,How is your sleep?,choice,,,,,0=Fine|1=Broken|2=Very poor,"""


def _page(clinic, *, import_form=None, problems=()) -> dict:
    questionnaires = list(
        questionnaires_for(clinic, active_only=False).select_related("imported_by")
    )
    return {
        "questionnaires": [q for q in questionnaires if q.is_active],
        "retired": [q for q in questionnaires if not q.is_active],
        "import_form": import_form or ImportForm(),
        "problems": list(problems),
        "csv_columns": ",".join(definitions.CSV_COLUMNS),
        "csv_settings": ", ".join(definitions.CSV_SETTINGS),
        "csv_example": CSV_EXAMPLE,
    }


class QuestionnaireListView(ClinicStaffMixin, TemplateView):
    template_name = "outcomes/questionnaires.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(**_page(self.clinic), **kwargs)


class QuestionnaireImportView(ClinicAdminMixin, TemplateView):
    """A clinic admin adds a questionnaire from a file; any problem imports nothing, and
    the page comes back with every problem listed."""

    template_name = "outcomes/questionnaires.html"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = ImportForm(request.POST, request.FILES)
        problems: list[str] = []
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                questionnaire = questionnaire_import(
                    clinic=self.clinic,
                    name=upload.name,
                    content=upload.read(),
                    actor=Actor.of(request),
                )
            except definitions.DefinitionError as error:
                problems = error.problems
            else:
                messages.success(
                    request,
                    f"“{questionnaire.title}” (version {questionnaire.version}) imported. "
                    "Therapists can now ask for it from a program.",
                )
                return redirect("outcomes:questionnaires")
        context = self.get_context_data(**_page(self.clinic, import_form=form, problems=problems))
        return self.render_to_response(context, status=400)


class QuestionnaireActiveView(ClinicAdminMixin, View):
    """Retire an imported questionnaire (no longer offered or asked), or bring it back."""

    http_method_names = ["post"]

    def post(self, request, pk):
        questionnaire = get_questionnaire_for(request.user, pk)
        active = request.POST.get("active") == "1"
        try:
            questionnaire_set_active(
                questionnaire=questionnaire, active=active, actor=Actor.of(request)
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if active:
                messages.success(request, f"“{questionnaire.title}” is offered again.")
            else:
                messages.success(
                    request,
                    f"“{questionnaire.title}” retired: no longer offered, and programs stop "
                    "asking for it. The answers already given stay.",
                )
        return redirect("outcomes:questionnaires")


def _json_download(data: dict, filename: str) -> HttpResponse:
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class QuestionnaireDefinitionView(ClinicStaffMixin, View):
    """The definition in our own format: the file to edit and import again."""

    http_method_names = ["get"]

    def get(self, request, pk):
        questionnaire = get_questionnaire_for(request.user, pk)
        name = slugify(f"{questionnaire.slug}-{questionnaire.version}")
        return _json_download(questionnaire.definition, f"{name}.json")


class QuestionnaireFhirView(ClinicStaffMixin, View):
    """The questionnaire as a FHIR R4 ``Questionnaire`` resource."""

    http_method_names = ["get"]

    def get(self, request, pk):
        questionnaire = get_questionnaire_for(request.user, pk)
        name = slugify(f"{questionnaire.slug}-{questionnaire.version}")
        return _json_download(questionnaire_resource(questionnaire), f"{name}.fhir.json")


def _period(request) -> tuple[ReportPeriodForm, list]:
    form = ReportPeriodForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return form, []
    start, end = (
        (form.cleaned_data["start"], form.cleaned_data["end"])
        if form.is_bound
        else ReportPeriodForm.default_period()
    )
    return form, [start, end]


class OutcomesReportView(ClinicStaffMixin, TemplateView):
    template_name = "outcomes/report.html"

    def get_context_data(self, **kwargs):
        form, period = _period(self.request)
        rows = outcomes_report(clinic=self.clinic, start=period[0], end=period[1]) if period else []
        if not form.is_bound:
            form = ReportPeriodForm(initial={"start": period[0], "end": period[1]})
        return super().get_context_data(form=form, period=period, rows=rows, **kwargs)

    def render_to_response(self, context, **kwargs):
        if not context["period"]:
            kwargs["status"] = 400
        return super().render_to_response(context, **kwargs)


REPORT_COLUMNS = (
    "questionnaire",
    "version",
    "kind",
    "patients",
    "mean_baseline",
    "mean_latest",
    "mean_change",
    "improved_by_mic",
    "improved_percent",
    "worse_by_mic",
    "worse_percent",
    "period_start",
    "period_end",
)


def _cell(value) -> str:
    """A spreadsheet reads a leading =, +, - or @ as a formula: quote text that does."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@") and not text.lstrip("-").replace(".", "").isdigit():
        return "'" + text
    return text


class OutcomesReportCsvView(ClinicStaffMixin, View):
    """The report's rows as a spreadsheet: counts and means only, no patient."""

    http_method_names = ["get"]

    def get(self, request):
        form, period = _period(request)
        if not period:
            errors = " ".join(e for errs in form.errors.values() for e in errs)
            return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
        start, end = period
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(REPORT_COLUMNS)
        for row in outcomes_report(clinic=self.clinic, start=start, end=end):
            q = row.questionnaire
            writer.writerow(
                _cell(v)
                for v in (
                    q.title,
                    q.version,
                    "rating of change" if row.is_change_measure else "status",
                    row.patients,
                    row.mean_baseline,
                    row.mean_latest,
                    row.mean_change,
                    row.improved,
                    row.improved_share,
                    row.worse,
                    row.worse_share,
                    start.isoformat(),
                    end.isoformat(),
                )
            )
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="outcomes-{start.isoformat()}-{end.isoformat()}.csv"'
        )
        return response
