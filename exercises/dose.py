"""A dose: what makes one valid, and how it reads for patients
("Hold 30 seconds · 3 repetitions · each side · twice a day").

"Times" means one thing only, how often a day; a movement done again is a
repetition ("10 repetitions, 3 sets"), so no line can be read two ways.

The rule lives here only. The model fields take their validators from
``count_validators`` and ``DoseFields.clean()`` calls ``Dose.validate``, so the
staff forms, the builder, the Django admin and the library loader (which all
run the model's validation) check the same thing and say it in the same words.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator

# Every dose field but the side is a count: a whole number from 1 (0 would mean
# nothing) to a most that no home exercise goes past.
MOST = {"hold_seconds": 3600, "reps": 500, "sets": 20, "times_per_day": 12, "days_per_week": 7}
COUNTS = tuple(MOST)
# A dose says how much at least one way: a hold, a number of times or of sets.
AMOUNT = ("hold_seconds", "reps", "sets")
NO_AMOUNT = "Give at least a hold time or a number of times."

SEPARATOR = " · "
SIDE_WORDS = {"each": "each side", "left": "left side only", "right": "right side only"}
# On the handout's card, the side has its own line, in words a patient acts on.
SIDE_LINES = {
    "each": "Both sides, one after the other",
    "left": "Left side only",
    "right": "Right side only",
}
TIMES_A_DAY = {1: "once a day", 2: "twice a day"}


@dataclass(frozen=True)
class Dose:
    hold_seconds: int | None = None
    reps: int | None = None
    sets: int | None = None
    side: str = "none"
    times_per_day: int | None = None
    days_per_week: int | None = None

    FIELDS = ("hold_seconds", "reps", "sets", "side", "times_per_day", "days_per_week")

    @classmethod
    def of(cls, obj) -> "Dose":
        """The dose stored on a model instance or any object with the six attributes."""
        return cls(**{name: getattr(obj, name) for name in cls.FIELDS})

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.FIELDS}

    def validate(self) -> None:
        """Raise ``ValidationError`` (on the hold field) when the dose gives no amount.
        Each count's own range is checked by its field's ``count_validators``."""
        if not any(getattr(self, name) for name in AMOUNT):
            raise ValidationError({"hold_seconds": NO_AMOUNT}, code="no_amount")

    def parts(self, *, side: bool = True) -> list[str]:
        """The dose's phrases in reading order; ``side=False`` leaves the side out
        (the handout prints it on a line of its own, ``side_line``)."""
        parts = []
        if self.hold_seconds:
            parts.append(f"Hold {duration(self.hold_seconds)}")
        sets = f"{self.sets} sets" if self.sets and self.sets > 1 else ""
        if self.reps:
            reps = plural(self.reps, "repetition")
            parts.append(f"{reps}, {sets}" if sets else reps)
        elif sets:
            parts.append(sets)
        if side and self.side in SIDE_WORDS:
            parts.append(SIDE_WORDS[self.side])
        if self.times_per_day:
            parts.append(TIMES_A_DAY.get(self.times_per_day, f"{self.times_per_day} times a day"))
        if self.days_per_week and self.days_per_week < 7:
            parts.append(plural(self.days_per_week, "day") + " a week")
        elif self.days_per_week == 7 and not self.times_per_day:
            parts.append("every day")
        return parts

    def __str__(self) -> str:
        return SEPARATOR.join(self.parts())

    @property
    def amount(self) -> str:
        """The dose without its side: the handout's dose line."""
        return SEPARATOR.join(self.parts(side=False))

    @property
    def side_line(self) -> str:
        """ "Left side only", "Both sides, one after the other", or "" when no side applies."""
        return SIDE_LINES.get(self.side, "")


def count_validators(name: str) -> list:
    return [MinValueValidator(1), MaxValueValidator(MOST[name])]


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def duration(seconds: int) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        return plural(seconds // 60, "minute")
    return plural(seconds, "second")
