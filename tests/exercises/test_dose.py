import pytest

from exercises.dose import Dose


@pytest.mark.parametrize(
    ("dose", "words"),
    [
        (
            Dose(hold_seconds=30, reps=3, side="each", times_per_day=2),
            "Hold 30 seconds · 3 times · each side · twice a day",
        ),
        (Dose(hold_seconds=45, reps=1), "Hold 45 seconds · once"),
        (Dose(hold_seconds=120), "Hold 2 minutes"),
        (Dose(hold_seconds=1), "Hold 1 second"),
        (Dose(reps=12, sets=3, days_per_week=4), "12 times · 3 sets · 4 days a week"),
        (
            Dose(reps=10, side="left", times_per_day=1, days_per_week=7),
            "10 times · left side · once a day",
        ),
        (Dose(reps=8, days_per_week=7), "8 times · every day"),
        (Dose(reps=5, times_per_day=3, days_per_week=1), "5 times · 3 times a day · 1 day a week"),
        (Dose(), ""),
    ],
)
def test_dose_reads_as_plain_words(dose, words):
    assert str(dose) == words


def test_one_set_is_not_mentioned():
    assert "set" not in str(Dose(reps=10, sets=1))
