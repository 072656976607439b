"""About how long a session takes (prescriptions.session_time), and when the builder
says a program has grown past what patients keep up with."""

import pytest

from exercises.dose import Dose
from prescriptions.session_time import (
    MOST_EXERCISES,
    REP_SECONDS,
    REST_SECONDS,
    SET_UP_SECONDS,
    exercise_seconds,
    session_time,
)


@pytest.mark.parametrize(
    ("dose", "seconds"),
    [
        # Hold 30 s, 3 times, each side: 30 × 3 × 2, and the set-up.
        (Dose(hold_seconds=30, reps=3, side="each"), 180 + SET_UP_SECONDS),
        # 12 reps without a hold, 3 sets: 3 s × 12 × 3 and two rests between sets.
        (Dose(reps=12, sets=3), REP_SECONDS * 36 + 2 * REST_SECONDS + SET_UP_SECONDS),
        # A hold alone is one repetition; left side only counts once.
        (Dose(hold_seconds=60, side="left"), 60 + SET_UP_SECONDS),
        # Sets alone: one movement a set.
        (Dose(sets=2), REP_SECONDS * 2 + REST_SECONDS + SET_UP_SECONDS),
    ],
)
def test_one_exercise(dose, seconds):
    assert exercise_seconds(dose) == seconds


def test_a_session_rounds_to_whole_minutes():
    assert session_time([]).minutes == 0
    assert session_time([Dose(reps=1)]).minutes == 1  # 18 seconds: about a minute
    stretch = Dose(hold_seconds=30, reps=3, side="each")  # 195 s
    time = session_time([stretch, stretch])  # 390 s: 6.5 minutes, rounded up
    assert (time.exercises, time.seconds, time.minutes) == (2, 390, 7)
    assert not time.too_much


def test_too_many_exercises_or_minutes_is_a_hint():
    short = Dose(reps=5)
    assert not session_time([short] * MOST_EXERCISES).too_much
    assert session_time([short] * (MOST_EXERCISES + 1)).too_much
    long_hold = Dose(hold_seconds=60, reps=5, sets=3, side="each")  # over 30 minutes
    assert session_time([long_hold]).too_much


def test_the_builder_shows_the_estimate(alice_client, draft):
    page = alice_client.get(f"/prescriptions/{draft.pk}/edit/").content.decode()
    expected = session_time(item.dose for item in draft.items.all()).minutes
    assert f"About {expected} minutes a session." in page
    assert "Patients keep up better with fewer" not in page
