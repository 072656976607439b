"""A questionnaire as a form on the patient's page, built from its definition
(``outcomes.definitions``): a row of numbers for a rating, a list for a choice, a box
for words, and named activities each with a rating.

Field names are the item ids (``now``), and for an activities item
``<id>.name.<n>`` and ``<id>.rating.<n>``: item ids never hold a dot, so no two
collide. Definition text is shown through the template's escaping only: an imported
definition is written by a clinic, not by us.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS

from outcomes import scoring

NOT_A_CHOICE = "Choose one of the answers shown."


@dataclass
class Option:
    value: str
    label: str


@dataclass
class ActivityRow:
    number: int
    name_field: str
    rating_field: str
    name: str
    rating: str
    fixed: bool  # Named at the first answer: rated again, not renamed.


@dataclass
class Question:
    """One item as the template draws it, with what the patient chose so far."""

    number: int
    item: dict
    value: str = ""
    options: list[Option] = field(default_factory=list)
    rows: list[ActivityRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.item["id"]

    @property
    def kind(self) -> str:
        return self.item["type"]

    @property
    def html_id(self) -> str:
        return f"q-{self.item['id']}"


def _scale(item: dict) -> list[tuple[str, str]]:
    return [(str(n), str(n)) for n in range(item["min"], item["max"] + 1)]


class QuestionnaireForm(forms.Form):
    """The answers to one questionnaire. ``previous`` holds the activities named at
    the patient's first answer, by item (``outcomes.selectors.previous_activities``):
    those rows are rated again under the same names, whatever the post says."""

    def __init__(self, *args, definition: dict, previous: dict[str, list[str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.definition = definition
        self.previous = previous
        self.question_errors: dict[str, list[str]] = {}
        for item in definition["items"]:
            kind, name = item["type"], item["id"]
            if kind == "integer":
                self.fields[name] = forms.ChoiceField(
                    choices=_scale(item),
                    required=False,
                    error_messages={"invalid_choice": NOT_A_CHOICE},
                )
            elif kind == "choice":
                self.fields[name] = forms.ChoiceField(
                    choices=[(str(o["value"]), o["label"]) for o in item["options"]],
                    required=False,
                    error_messages={"invalid_choice": NOT_A_CHOICE},
                )
            elif kind == "text":
                self.fields[name] = forms.CharField(
                    required=False,
                    max_length=1000,
                    error_messages={"max_length": "Keep the answer to 1,000 characters."},
                )
            else:
                for n in range(1, self.activity_count(item) + 1):
                    self.fields[f"{name}.name.{n}"] = forms.CharField(
                        required=False,
                        max_length=120,
                        error_messages={"max_length": "Keep each activity to 120 characters."},
                    )
                    self.fields[f"{name}.rating.{n}"] = forms.ChoiceField(
                        choices=_scale(item),
                        required=False,
                        error_messages={"invalid_choice": NOT_A_CHOICE},
                    )

    def activity_count(self, item: dict) -> int:
        named = self.previous.get(item["id"])
        return len(named) if named else item["max_activities"]

    def _item_of(self, field_name: str) -> str:
        return field_name.split(".", 1)[0]

    def _complain(self, item_id: str, message: str) -> None:
        found = self.question_errors.setdefault(item_id, [])
        if message not in found:
            found.append(message)

    def clean(self):
        data = super().clean()
        answers = {}
        for item in self.definition["items"]:
            name = item["id"]
            if item["type"] != "activities":
                answers[name] = data.get(name) or None
                if item.get("required") and not answers[name] and name not in self.errors:
                    self._complain(name, "Please answer this question.")
                continue
            rows = []
            for n, fixed in self._names(item):
                rating = data.get(f"{name}.rating.{n}") or None
                activity = fixed or (data.get(f"{name}.name.{n}") or "").strip()
                if rating is not None and not activity:
                    self._complain(name, f"Activity {n}: write what the activity is.")
                elif activity and rating is None and not fixed and not self._refused(name, n):
                    self._complain(name, f"Activity {n}: choose how well you can do it.")
                if activity:
                    rows.append({"name": activity, "rating": rating})
            answers[name] = rows
            if item.get("required") and not any(r["rating"] is not None for r in rows):
                if self.previous.get(name):
                    self._complain(name, "Rate at least one of your activities.")
                else:
                    self._complain(name, "Name at least one activity and rate it.")
        for field_name, errors in self.errors.items():
            if field_name != NON_FIELD_ERRORS:
                for error in errors:
                    self._complain(self._item_of(field_name), error)
        if not self.question_errors:
            self._check_enough(answers)
        if self.question_errors:
            raise forms.ValidationError("Some answers need another look.")
        self.answers = answers
        return data

    def _refused(self, name: str, n: int) -> bool:
        """Whether the row's rating was refused already (one message is enough)."""
        return f"{name}.rating.{n}" in self.errors

    def _names(self, item: dict) -> list[tuple[int, str]]:
        named = self.previous.get(item["id"])
        if named:
            return list(enumerate(named, start=1))
        return [(n, "") for n in range(1, item["max_activities"] + 1)]

    def _check_enough(self, answers: dict) -> None:
        """Enough answered for a score: a patient who skips too much is told at once,
        not left with answers that cannot be compared later."""
        cleaned, problems = scoring.clean_answers(self.definition, answers)
        if problems:
            self.add_error(None, problems)
            return
        result = scoring.score(self.definition, cleaned)
        if result.value is not None or not scoring.scored_items(self.definition):
            return
        least = self.definition["scoring"]["min_answered"]
        if result.answered == 0:
            message = "Answer the questions below, then press Send."
        else:
            message = f"Please answer at least {least} of the questions."
        self.add_error(None, message)

    def questions(self) -> list[Question]:
        shown = []
        for number, item in enumerate(self.definition["items"], start=1):
            question = Question(
                number=number, item=item, errors=self.question_errors.get(item["id"], [])
            )
            name = item["id"]
            if item["type"] == "activities":
                for n, fixed in self._names(item):
                    question.rows.append(
                        ActivityRow(
                            number=n,
                            name_field=f"{name}.name.{n}",
                            rating_field=f"{name}.rating.{n}",
                            name=fixed or self._raw(f"{name}.name.{n}"),
                            rating=self._raw(f"{name}.rating.{n}"),
                            fixed=bool(fixed),
                        )
                    )
                question.options = [Option(v, label) for v, label in _scale(item)]
            else:
                question.value = self._raw(name)
                field_choices = getattr(self.fields[name], "choices", [])
                question.options = [Option(str(v), str(label)) for v, label in field_choices]
            shown.append(question)
        return shown

    def _raw(self, name: str) -> str:
        value = self[name].value()
        return "" if value is None else str(value)
