"""Dose lives in one place: exercise texts never state a dose or a side, and the
handout never prints a number or a side that disagrees with the therapist's dose."""

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import strip_tags

from exercises.dose import Dose
from exercises.models import Exercise, ExerciseStep
from exercises.services import library_problems
from exercises.wording import GUIDANCE, dose_phrases, fill
from prescriptions import handouts
from prescriptions.selectors import exercise_preview_snapshot, item_snapshot
from tests.exercises.test_clinic_exercises import exercise_data
from tests.exercises.test_library import LIBRARY, load
from tests.factories import ExerciseFactory
from tests.helpers import admin_change_data, pdf_text


@pytest.mark.parametrize(
    ("text", "phrases"),
    [
        ("Stay there for 30 seconds, breathing easily.", ["30 seconds"]),
        ("Hold for three to five seconds.", ["three to five seconds"]),
        ("Pause for a few seconds at the top.", ["a few seconds"]),
        ("Do 10 slow repetitions twice a day.", ["10 slow repetitions", "twice", "a day"]),
        ("Breathe in for a count of four.", ["count of four"]),
        ("Carry on for 10 to 15 steps.", ["10 to 15 steps"]),
        (
            "Finish the set, then turn over and work the other side.",
            ["work the other", "other side"],
        ),
        ("Hold the seat with your right hand.", ["right"]),
        ("Swap sides and go again.", ["Swap sides"]),
        ("Turn to face the other way and repeat.", ["other way and repeat"]),
        ("Do it every morning.", ["every morning"]),
        ("Stay there for {hodl}.", ["{hodl}"]),
    ],
)
def test_dose_and_side_statements_are_found(text, phrases):
    assert dose_phrases(text) == phrases


@pytest.mark.parametrize(
    "text",
    [
        "Bend your elbows to about a right angle.",
        "Rest your forearms on each side of the door frame.",
        "Stay there for {hold}, breathing easily.",
        "Stand upright and let your shoulders drop.",
        "Stop once a mild pull appears at the front of the hip.",
        "Keep the other leg straight along the floor.",
        "Turn your head slowly one way, then the other way.",
    ],
)
def test_dose_neutral_texts_pass(text):
    assert dose_phrases(text) == []


def test_hold_is_filled_in_from_the_prescription():
    assert fill("Stay there for {hold}.", hold_seconds=45) == "Stay there for 45 seconds."
    assert fill("Stay there for {hold}.", hold_seconds=120) == "Stay there for 2 minutes."
    assert (
        fill("Stay there for {hold}.", hold_seconds=None)
        == "Stay there for as long as feels comfortable."
    )


def test_the_clinic_form_names_the_step_and_the_phrase(alice_client):
    response = alice_client.post(
        reverse("exercises:create"),
        exercise_data(
            steps="Sit tall.\nStay there for 30 seconds.\nNow turn round and do the other side.",
            cues="Do it twice a day.",
            cautions="Stop if the left knee aches.",
            setup="Sit on a chair.",
        ),
    )
    errors = response.context["form"].errors
    assert [e.split(" (")[0] for e in errors["steps"]] == [
        "Step 2 states a dose or a side",
        "Step 3 states a dose or a side",
        GUIDANCE,
    ]
    assert "(“30 seconds”)" in errors["steps"][0] and "“other side”" in errors["steps"][1]
    assert errors["cues"][0].startswith("Cue states a dose or a side (“twice”, “a day”)")
    assert errors["cautions"][0].startswith("Caution states a dose or a side (“left”)")
    assert "setup" not in errors
    assert not Exercise.objects.exists()


def test_the_clinic_form_takes_hold_and_the_handout_fills_it_in(alice_client):
    response = alice_client.post(
        reverse("exercises:create"),
        exercise_data(steps="Sit tall.\nStay there for {hold}.", hold_seconds="40"),
    )
    assert response.status_code == 302, response.context["form"].errors
    exercise = Exercise.objects.get()
    snapshot = exercise_preview_snapshot(exercise)
    assert snapshot["items"][0]["steps"][1] == "Stay there for 40 seconds."


def test_the_admin_refuses_a_dose_in_the_set_up_and_in_a_step(curator_client):
    exercise = ExerciseFactory(name="Calf raise", steps=["Rise onto your toes."])
    url = reverse("admin:exercises_exercise_change", args=[exercise.pk])
    data = admin_change_data(curator_client, url)
    step = exercise.steps.get()
    data.update(
        {
            "setup": "Stand on a step for 2 minutes.",
            "steps-TOTAL_FORMS": "1",
            "steps-INITIAL_FORMS": "1",
            "steps-0-id": str(step.pk),
            "steps-0-exercise": str(exercise.pk),
            "steps-0-order": "0",
            "steps-0-text": "Rise onto your toes, then swap legs.",
            "images-TOTAL_FORMS": "0",
            "images-INITIAL_FORMS": "0",
        }
    )
    response = curator_client.post(url, data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "The set-up states a dose or a side (“2 minutes”)" in page
    assert "This step states a dose or a side (“swap legs”)" in page
    exercise.refresh_from_db()
    assert exercise.setup != "Stand on a step for 2 minutes."
    assert ExerciseStep.objects.get(pk=step.pk).text == "Rise onto your toes."


def test_the_library_file_names_the_row_the_step_and_the_phrase(db):
    entry = json.loads(LIBRARY.read_text())[0]
    entry.update(
        related=[], easier="", steps=[*entry["steps"], "Repeat on the left for 30 seconds."]
    )
    assert library_problems([entry]) == [
        f"Row 1 ({entry['slug']}): steps: Step {len(entry['steps'])} states a dose or a side "
        "(“left”, “30 seconds”).",
        "The prescription's dose and side are printed on the card: leave them out of the text, "
        "or write {hold} where the hold time belongs.",
    ]


def test_the_admin_import_refuses_a_dose_in_a_cue(curator_client):
    entry = json.loads(LIBRARY.read_text())[0]
    entry.update(related=[], easier="", cues=["Do ten sets a day."])
    upload = SimpleUploadedFile("lib.json", json.dumps([entry]).encode())
    page = curator_client.post(reverse("admin:exercises_exercise_import"), {"file": upload})
    assert "“ten sets”, “a day”" in page.content.decode()
    assert not Exercise.objects.exists()


def test_every_bundled_text_is_dose_neutral(db):
    problems = library_problems(json.loads(LIBRARY.read_text()))
    assert [p for p in problems if "states a dose or a side" in p] == []


# The contradiction test: every bundled exercise printed with unusual doses.
UNUSUAL = [
    Dose(hold_seconds=45, reps=7, side="left", times_per_day=1),
    Dose(hold_seconds=45, reps=7, side="right", days_per_week=5),
    Dose(reps=7, sets=2, side="each", times_per_day=3),
    Dose(hold_seconds=45, side="none"),
    Dose(reps=13, side="none"),
]
NUMBER_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30,
    "forty": 40, "forty-five": 45, "sixty": 60, "hundred": 100, "twice": 2,
}  # fmt: skip
NUMBER = re.compile(r"\b(\d+|" + "|".join(NUMBER_WORDS) + r")\b", re.IGNORECASE)
# Numbers that are not doses: a pain scale, a clock face, a distance.
NOT_A_DOSE = re.compile(r"^\s*(?:(?:or|to)\s+\w+\s+)?(?:out of|o'clock|metres?|centimetres?|cm)")
SIDES = {
    "left": re.compile(r"\bleft\b", re.IGNORECASE),
    "right": re.compile(r"\bright\b(?![- ]angle)", re.IGNORECASE),
    "switch": re.compile(
        r"\b(?:other|opposite|each|both) sides?\b(?! of)"
        r"|\b(?:swap|switch|change) (?:sides|legs|arms)|\beach (?:leg|arm)\b",
        re.IGNORECASE,
    ),
}
ALLOWED_SIDE_WORDS = {"left": {"left"}, "right": {"right"}, "each": set(), "none": set()}


def prose(item: dict) -> str:
    return " ".join([item["setup"], *item["steps"], *item["cues"], *item["cautions"]])


def numbers_in(text: str) -> list[tuple[int, str]]:
    found = []
    for match in NUMBER.finditer(text):
        if NOT_A_DOSE.match(text[match.end() :]):
            continue
        word = match.group(1).lower()
        found.append((int(word) if word.isdigit() else NUMBER_WORDS[word], match.group(0)))
    return found


@pytest.fixture
def bundled(db):
    load()
    return list(Exercise.objects.prefetch_related("steps").order_by("slug"))


def contradictions(exercises, dose: Dose) -> list[str]:
    """Each number or side in the printed texts that disagrees with the dose line."""
    dose_numbers = {value for value in dose.as_dict().values() if isinstance(value, int)}
    side_words = ALLOWED_SIDE_WORDS[dose.side]
    found = []
    for exercise in exercises:
        item = item_snapshot(exercise, dose=dose)
        assert item["dose"] == dose.amount and item["side"] == dose.side_line
        text = prose(item)
        for value, words in numbers_in(text):
            if value not in dose_numbers:
                found.append(f"{exercise.slug}: “{words}” against “{dose.amount}”")
        for side, pattern in SIDES.items():
            for match in pattern.finditer(text):
                if side not in side_words:
                    found.append(f"{exercise.slug}: “{match.group(0)}” ({dose.side})")
    return found


@pytest.mark.parametrize("dose", UNUSUAL, ids=str)
def test_no_bundled_exercise_contradicts_its_dose(bundled, dose):
    assert contradictions(bundled, dose) == []


def test_the_contradiction_check_finds_the_old_texts(db):
    """The psoas stretch and the clamshell as they were printed before texts were neutral."""
    old = [
        ExerciseFactory(
            slug="old-psoas",
            steps=["Stay there for 30 seconds, then turn to face the other way and repeat."],
        ),
        ExerciseFactory(slug="old-clamshell", steps=["Turn over and work the other side."]),
        ExerciseFactory(slug="now-psoas", steps=["Stay there for {hold}, breathing easily."]),
    ]
    assert contradictions(old, Dose(hold_seconds=45, side="left")) == [
        "old-psoas: “30” against “Hold 45 seconds”",
        "old-clamshell: “other side” (left)",
    ]


def test_a_printed_card_carries_the_therapists_dose_and_side(bundled):
    psoas = next(e for e in bundled if e.slug == "psoas-stretch-standing")
    psoas.main = []
    dose = Dose(hold_seconds=45, reps=7, side="left", times_per_day=1)
    snapshot = exercise_preview_snapshot(psoas)
    snapshot["items"] = [item_snapshot(psoas, dose=dose, note="Go gently.")]
    html = strip_tags(handouts.render_html(snapshot, draft=True))
    text = " ".join(html.split())
    assert "Hold 45 seconds · 7 repetitions · once a day" in text
    assert "Left side only" in text and "From Therapist: Go gently." in text
    pdf = pdf_text(handouts.render_pdf(snapshot, draft=True))
    assert "Hold 45 seconds · 7 repetitions · once a day" in pdf and "Left side only" in pdf
    assert not re.search(r"\b(30 seconds|other side|right)\b", pdf.split("Left side only")[1])
