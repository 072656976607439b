"""About how long one session of a program takes, from its doses: the builder shows
"About N minutes a session" and a gentle word when a program grows past what patients
keep up with. An estimate to guide the therapist, never a rule: nothing is refused.

The constants are chosen, not measured; docs/builder.md explains them:

- a repetition takes its hold time, or ``REP_SECONDS`` when it has none;
- repetitions × sets, twice over when the dose is for each side;
- ``REST_SECONDS`` between two sets (none after the last);
- ``SET_UP_SECONDS`` per exercise to read it, get into position or fetch a band.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from exercises.dose import Dose

REP_SECONDS = 3  # one repetition without a hold: a slow, controlled movement
REST_SECONDS = 20  # a short breather between two sets
SET_UP_SECONDS = 15  # getting into position for the next exercise

# Past either, the builder says patients keep up better with fewer (a hint only).
MOST_EXERCISES = 6
MOST_MINUTES = 20


def exercise_seconds(dose: Dose) -> int:
    """Seconds one exercise takes in one session, set-up included."""
    per_rep = dose.hold_seconds or REP_SECONDS
    reps = max(dose.reps or 1, 1)
    sets = max(dose.sets or 1, 1)
    sides = 2 if dose.side == "each" else 1
    return per_rep * reps * sets * sides + REST_SECONDS * (sets - 1) + SET_UP_SECONDS


@dataclass(frozen=True)
class SessionTime:
    exercises: int
    seconds: int

    @property
    def minutes(self) -> int:
        """Whole minutes, rounded to the nearest (half up); at least 1 for any exercise."""
        if not self.exercises:
            return 0
        return max(1, (self.seconds + 30) // 60)

    @property
    def too_much(self) -> bool:
        """More exercises or minutes than patients usually keep up with."""
        return self.exercises > MOST_EXERCISES or self.minutes > MOST_MINUTES


def session_time(doses: Iterable[Dose]) -> SessionTime:
    """The time a session of these doses takes (one dose per exercise of the program)."""
    doses = list(doses)
    return SessionTime(exercises=len(doses), seconds=sum(exercise_seconds(d) for d in doses))
