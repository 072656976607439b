"""Exercise texts say how, never how much: the dose lives in one place.

A patient's handout prints the therapist's dose for each exercise on its own
line ("Hold 45 seconds · 7 repetitions") and the side on another ("Left side
only"). If a step also said "stay there for 30 seconds" or "now do the other
side", the patient would read two instructions and follow the wrong one. So the
set-up, steps, cues and cautions of every exercise, bundled or a clinic's own,
are dose-neutral: ``dose_phrases`` finds what states a hold time, a count, a
number of sets, a frequency or a side, and ``refuse_dose_phrases`` turns that
into the validation error that ``load_library``, the admin and the clinic's
exercise form all show.

Where a step needs the hold time it writes ``{hold}``; the handout fills it in
from the prescription ("Stay there for {hold}" prints "Stay there for 45
seconds").
"""

import re

from django.core.exceptions import ValidationError

from exercises.dose import duration

HOLD = "{hold}"
# Printed for {hold} when the therapist's dose has no hold time.
NO_HOLD = "as long as feels comfortable"

_NUMBER_WORDS = (
    "two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    "sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|forty-five|fifty|sixty|ninety|hundred"
)
_NUMBER = rf"(?:\d+(?:[.,]\d+)?|{_NUMBER_WORDS}|a few|few|several|a couple of)"
_UNIT = (
    r"(?:seconds?|secs?|minutes?|mins?|hours?|times|reps?|repetitions?|sets?|rounds?|"
    r"breaths?|counts?|cycles?|steps|days?|weeks?)"
)
_SENTENCE = r"[^.;:!?\n]*"

# Each pattern finds one kind of dose statement; the match is the phrase named to the writer.
PATTERNS = [
    # A number of something a dose counts: "30 seconds", "three to five seconds",
    # "10 slow repetitions", "a few breaths".
    re.compile(
        rf"\b{_NUMBER}(?:\s*(?:to|or|-|–)\s*{_NUMBER})?(?:\s+[a-z]+)?\s+{_UNIT}\b", re.IGNORECASE
    ),
    # A single unit of time: "for a second", "one minute", "for a breath".
    re.compile(r"\b(?:a|one|an)\s+(?:second|minute|hour)\b", re.IGNORECASE),
    re.compile(r"\bfor (?:a|one) (?:slow |deep )?breath\b", re.IGNORECASE),
    re.compile(rf"\bcount(?:ing)? (?:of|to) {_NUMBER}\b", re.IGNORECASE),
    # How often: "twice", "a day", "every morning", "daily".
    re.compile(r"\b(?:twice|thrice|daily|weekly|nightly)\b", re.IGNORECASE),
    re.compile(
        r"\b(?:a|per|each|every)\s+(?:day|week|morning|evening|night|hour)\b", re.IGNORECASE
    ),
    # A side: "left", "right" (a right angle is not a side), "the other side",
    # "each side" (but "each side of the door frame" is a place), "swap sides",
    # "repeat with the other leg", "work the other side".
    re.compile(r"\b(?:left|right)\b(?![- ]angled?\b|[- ]angles\b)", re.IGNORECASE),
    re.compile(r"\b(?:each|both|other|opposite)\s+sides?\b(?!\s+of\b)", re.IGNORECASE),
    re.compile(r"\b(?:swap|switch|change)\s+(?:sides|over|legs|arms)\b", re.IGNORECASE),
    re.compile(r"\beach (?:leg|arm)\b", re.IGNORECASE),
    re.compile(rf"\b(?:repeat|do the same|work)\b{_SENTENCE}\b(?:other|opposite)\b", re.IGNORECASE),
    re.compile(rf"\b(?:other|opposite)\b{_SENTENCE}\brepeat\b", re.IGNORECASE),
    # Any placeholder but {hold} is a typing mistake the patient would see.
    re.compile(r"\{(?!hold\})[^{}]*\}"),
]


def dose_phrases(text: str) -> list[str]:
    """The phrases in ``text`` that state a dose or a side, in the order they appear."""
    found: list[tuple[int, str]] = []
    for pattern in PATTERNS:
        found.extend((match.start(), match.group(0)) for match in pattern.finditer(text))
    return [phrase for _, phrase in sorted(found)]


GUIDANCE = (
    "The prescription's dose and side are printed on the card: leave them out of the text, "
    f"or write {HOLD} where the hold time belongs."
)


def refusal(text: str, where: str) -> str | None:
    """“Step 5 states a dose or a side (“other side”).”, or None when it does not."""
    phrases = dose_phrases(text)
    if not phrases:
        return None
    named = ", ".join(f"“{phrase}”" for phrase in dict.fromkeys(phrases))
    return f"{where} states a dose or a side ({named})."


def refusals(texts: list[str], *, label: str, guidance: bool = True) -> list[str]:
    """One message per line (or step) that states a dose or a side, naming it and its
    phrases, then (unless ``guidance=False``) what to write instead, once."""
    several = len(texts) > 1
    messages = [
        message
        for number, text in enumerate(texts, start=1)
        if (message := refusal(text, f"{label} {number}" if several else label))
    ]
    return [*messages, GUIDANCE] if messages and guidance else messages


def refuse_dose_phrases(texts: list[str], *, field: str, label: str) -> None:
    """Raise ``ValidationError`` on ``field`` with ``refusals``, if there are any."""
    if messages := refusals(texts, label=label):
        raise ValidationError({field: messages}, code="dose_in_text")


def fill(text: str, *, hold_seconds: int | None) -> str:
    """The text as printed for one prescription: ``{hold}`` becomes its hold time."""
    if HOLD not in text:
        return text
    return text.replace(HOLD, duration(hold_seconds) if hold_seconds else NO_HOLD)
