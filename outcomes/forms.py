"""Forms of the outcome measures' staff pages: a definition file to import, the report's
period, and a questionnaire's answers typed in from the patient's paper form."""

from __future__ import annotations

import datetime
import re

from django import forms
from django.utils import timezone

from outcomes.models import Schedule
from outcomes.scoring import clean_answers
from outcomes.services import OLDEST_PAPER

MAX_UPLOAD = 256 * 1024
REPORT_DAYS = 90
PROBLEM_OF = re.compile(r"^Question (\d+): (.*)$")


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Definition file (.json or .csv)",
        help_text="At most 256 KB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".json,.csv,application/json,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(
                "That file is larger than 256 KB; a questionnaire's definition is a few KB."
            )
        if not upload.name.lower().endswith((".json", ".csv")):
            raise forms.ValidationError("Upload a .json definition or a .csv spreadsheet.")
        return upload


class ReportPeriodForm(forms.Form):
    """The report's period, from the query string; empty means the last 90 days."""

    start = forms.DateField(
        label="From",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Enter the first day as a date, e.g. 2026-01-31."},
    )
    end = forms.DateField(
        label="To",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Enter the last day as a date, e.g. 2026-03-31."},
    )

    def clean(self):
        data = super().clean()
        end = data.get("end") or timezone.localdate()
        start = data.get("start") or end - datetime.timedelta(days=REPORT_DAYS)
        if not self.errors:
            if start > end:
                raise forms.ValidationError("The first day comes after the last.")
            if (end - start).days > 3660:
                raise forms.ValidationError("Choose a period of at most ten years.")
        data["start"], data["end"] = start, end
        return data

    @classmethod
    def default_period(cls) -> tuple[datetime.date, datetime.date]:
        end = timezone.localdate()
        return end - datetime.timedelta(days=REPORT_DAYS), end


class ScheduleForm(forms.Form):
    """Ask for a questionnaire from a program: which, when, and every how many weeks."""

    questionnaire = forms.TypedChoiceField(label="Questionnaire", coerce=int)
    when = forms.ChoiceField(label="When", choices=Schedule.When.choices)
    every_weeks = forms.IntegerField(
        label="Every … weeks",
        min_value=1,
        max_value=52,
        required=False,
        help_text="For “every few weeks”.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    def __init__(self, *args, questionnaires=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["questionnaire"].choices = [
            # The short title first: the box is narrow and a long title is cut off.
            (q.pk, f"{q.short_title} – {q.title}")
            for q in questionnaires
        ]

    def clean(self):
        data = super().clean()
        if data.get("when") == Schedule.When.EVERY and not data.get("every_weeks"):
            self.add_error("every_weeks", "Say every how many weeks (1 to 52).")
        return data


def _activity_names(item: dict, previous: dict[str, list[str]]) -> list[str]:
    return previous.get(item["id"], [])[: item["max_activities"]]


class AnswersForm(forms.Form):
    """A questionnaire's answers as written on paper, one field per question (an
    activities question: a name and a rating per row), built from its definition.
    Checked by the same rules as the page (``scoring.clean_answers``), each problem
    shown at its question."""

    answered_on = forms.DateField(
        label="Date written on the form",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, definition: dict, previous: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.definition = definition
        previous = previous or {}
        today = timezone.localdate()
        self.fields["answered_on"].initial = today
        self.fields["answered_on"].widget.attrs.update(
            max=today.isoformat(), min=(today - OLDEST_PAPER).isoformat()
        )
        self.questions: list[dict] = []
        for number, item in enumerate(definition["items"], start=1):
            self.questions.append(self._add(number, item, previous))

    def _add(self, number: int, item: dict, previous: dict) -> dict:
        name = f"q_{item['id']}"
        label = f"{number}. {item['text']}"
        kind = item["type"]
        rows: list[tuple[str, str]] = []
        question = {"number": number, "item": item, "name": name, "rows": rows}
        if kind == "integer":
            choices = [("", "No answer")] + [
                (str(v), str(v)) for v in range(item["min"], item["max"] + 1)
            ]
            self.fields[name] = forms.ChoiceField(label=label, choices=choices, required=False)
        elif kind == "choice":
            choices = [("", "No answer")] + [(str(o["value"]), o["label"]) for o in item["options"]]
            self.fields[name] = forms.ChoiceField(label=label, choices=choices, required=False)
        elif kind == "text":
            self.fields[name] = forms.CharField(
                label=label,
                required=False,
                max_length=1000,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        else:
            names = _activity_names(item, previous)
            ratings = [("", "–")] + [(str(v), str(v)) for v in range(item["min"], item["max"] + 1)]
            for row in range(item["max_activities"]):
                activity, rating = f"{name}_{row}_name", f"{name}_{row}_rating"
                self.fields[activity] = forms.CharField(
                    label=f"Activity {row + 1}",
                    required=False,
                    max_length=120,
                    initial=names[row] if row < len(names) else "",
                )
                self.fields[rating] = forms.ChoiceField(
                    label=f"Rating of activity {row + 1}", choices=ratings, required=False
                )
                rows.append((activity, rating))
        return question

    def bound_questions(self) -> list[dict]:
        """The questions with their bound fields, for the template."""
        out = []
        for question in self.questions:
            rows = [(self[a], self[r]) for a, r in question["rows"]]
            field = None if rows else self[question["name"]]
            out.append({**question, "field": field, "bound_rows": rows})
        return out

    def raw_answers(self) -> dict:
        data = self.cleaned_data
        answers: dict = {}
        for question in self.questions:
            item = question["item"]
            if question["rows"]:
                answers[item["id"]] = [
                    {"name": data.get(a) or "", "rating": data.get(r) or None}
                    for a, r in question["rows"]
                    if data.get(a) or data.get(r)
                ]
            else:
                answers[item["id"]] = data.get(question["name"]) or None
        return answers

    def clean(self):
        data = super().clean()
        day = data.get("answered_on")
        today = timezone.localdate()
        if day is not None and (day > today or day < today - OLDEST_PAPER):
            self.add_error(
                "answered_on", "The date on the form is in the future or over a year ago."
            )
        if not self.errors:
            _answers, problems = clean_answers(self.definition, self.raw_answers())
            for problem in problems:
                self.show_problem(problem)
        return data

    def show_problem(self, problem: str) -> None:
        """Put a problem the scoring rules name ("Question 2: …") at that question."""
        match = PROBLEM_OF.match(problem)
        if match and 1 <= int(match.group(1)) <= len(self.questions):
            question = self.questions[int(match.group(1)) - 1]
            field = question["rows"][0][0] if question["rows"] else question["name"]
            message = match.group(2)
            self.add_error(field, message[:1].upper() + message[1:])
        else:
            self.add_error(None, problem)
