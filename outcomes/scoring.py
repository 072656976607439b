"""Answers to a score, by the rules of the questionnaire's definition.

Methods (``scoring.method``):
- ``value``: the one scored item's answer.
- ``sum``: the answers added up. With ``prorate``, a sum with answers missing is
  scaled up to all the items (sum × items ÷ answered), as many paper instruments ask.
- ``mean``: the average of the answers; each rated activity of an ``activities`` item
  counts as one answer.
- ``percent``: the answers' sum as a share of the most those answered items could
  give, × 100 (missing items leave both sides of the fraction).

Fewer answers than ``min_answered`` leave no score: the response is stored, shown and
exported, but it is not charted or compared. Scores are rounded half up to
``decimals`` places.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from outcomes.definitions import DefinitionError, scored_items


@dataclass(frozen=True)
class Score:
    value: Decimal | None
    answered: int
    expected: int

    @property
    def reason(self) -> str:
        """Why there is no score (empty when there is one)."""
        if self.value is not None:
            return ""
        return f"Not scored: {self.answered} of {self.expected} answered."


def _values(item: dict, answer) -> list[int]:
    """The numbers an answer gives, checked against the item; missing gives none."""
    if item["type"] == "activities":
        return [a["rating"] for a in answer or [] if a.get("rating") is not None]
    return [] if answer is None else [answer]


def _expected(item: dict, answer) -> int:
    if item["type"] == "activities":
        return max(len(answer or []), 1)
    return 1


def _best(item: dict) -> int:
    if item["type"] == "choice":
        return max(option["value"] for option in item["options"])
    return item["max"]


def score(definition: dict, answers: dict) -> Score:
    rules = definition["scoring"]
    items = scored_items(definition)
    numbers: list[int] = []
    best = 0
    expected = 0
    for item in items:
        values = _values(item, answers.get(item["id"]))
        numbers.extend(values)
        best += _best(item) * len(values)
        expected += _expected(item, answers.get(item["id"]))
    answered = len(numbers)
    if answered < rules["min_answered"] or answered == 0:
        return Score(None, answered, expected)
    method = rules["method"]
    total = Decimal(sum(numbers))
    if method in ("value", "mean"):
        value = total / answered
    elif method == "sum":
        value = total * expected / answered if rules.get("prorate") else total
    elif method == "percent":
        value = total / best * 100 if best else Decimal(0)
    else:  # validate() lets no other method in.
        raise DefinitionError([f"Unknown scoring method {method!r}."])
    places = Decimal(1).scaleb(-rules["decimals"])
    return Score(value.quantize(places, rounding=ROUND_HALF_UP), answered, expected)


def improvement(definition: dict, baseline: Decimal, latest: Decimal) -> Decimal:
    """How much better the latest score is than the baseline (negative: worse), whatever
    direction the measure counts in."""
    change = latest - baseline
    return change if definition["scoring"]["higher_is_better"] else -change


def mic(definition: dict) -> Decimal | None:
    value = definition["scoring"].get("mic")
    return None if value is None else Decimal(value)


def verdict(definition: dict, gain: Decimal) -> str:
    """``better`` or ``worse`` when ``gain`` (from ``improvement``, or the rating itself
    for a change measure) reaches the minimal important change, else ``same``."""
    threshold = mic(definition)
    if threshold is None:
        return "same"
    if gain >= threshold:
        return "better"
    if gain <= -threshold:
        return "worse"
    return "same"


def _number(value) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise ValueError
    return int(value)


def clean_answers(definition: dict, raw: dict) -> tuple[dict, list[str]]:
    """Answers put in order for storing, and what is wrong with them (by question).

    Unanswered questions are stored as missing (``None``), unless the definition says
    the question is required."""
    answers: dict = {}
    problems: list[str] = []
    for number, item in enumerate(definition["items"], start=1):
        value = raw.get(item["id"])
        label = f"Question {number}"
        try:
            if item["type"] == "text":
                text = str(value or "").strip()
                if len(text) > 1000:
                    problems.append(f"{label}: keep the answer to 1,000 characters.")
                answers[item["id"]] = text
                missing = not text
            elif item["type"] == "activities":
                answers[item["id"]] = _activities(item, value, label, problems)
                missing = not any(a["rating"] is not None for a in answers[item["id"]])
            else:
                number_value = _number(value)
                if number_value is not None and item["type"] == "choice":
                    if number_value not in {o["value"] for o in item["options"]}:
                        raise ValueError
                elif number_value is not None and not item["min"] <= number_value <= item["max"]:
                    raise ValueError
                answers[item["id"]] = number_value
                missing = number_value is None
        except (TypeError, ValueError):
            problems.append(f"{label}: that answer is not one of the choices.")
            continue
        if missing and item.get("required"):
            problems.append(f"{label}: please answer this one.")
    return answers, problems


def _activities(item: dict, value, label: str, problems: list[str]) -> list[dict]:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise TypeError
    rows = []
    for entry in value:
        if not isinstance(entry, dict):
            raise TypeError
        name = str(entry.get("name") or "").strip()
        rating = _number(entry.get("rating"))
        if not name:
            if rating is not None:
                problems.append(f"{label}: name the activity you rated.")
            continue
        if len(name) > 120:
            problems.append(f"{label}: keep each activity to 120 characters.")
        if rating is not None and not item["min"] <= rating <= item["max"]:
            raise ValueError
        rows.append({"name": name[:120], "rating": rating})
    if len(rows) > item["max_activities"]:
        problems.append(f"{label}: at most {item['max_activities']} activities.")
    return rows
