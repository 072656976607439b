"""A dose written for patients: "Hold 30 seconds · 3 times · each side · twice a day"."""

from dataclasses import dataclass

SEPARATOR = " · "
SIDE_WORDS = {"each": "each side", "left": "left side", "right": "right side"}
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

    def parts(self) -> list[str]:
        parts = []
        if self.hold_seconds:
            parts.append(f"Hold {duration(self.hold_seconds)}")
        if self.reps:
            parts.append(plural(self.reps, "time") if self.reps > 1 else "once")
        if self.sets and self.sets > 1:
            parts.append(f"{self.sets} sets")
        if self.side in SIDE_WORDS:
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


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def duration(seconds: int) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        return plural(seconds // 60, "minute")
    return plural(seconds, "second")
