"""Each scoring rule, with answers missing, on definitions written for the test and on
the bundled measures."""

from decimal import Decimal

import pytest

from outcomes import definitions, scoring


def definition(method: str, **rules) -> dict:
    items = [
        {
            "id": f"q{n}",
            "text": f"Question {n}",
            "type": "choice",
            "options": "0=None|1=Mild|2=Moderate|3=Severe|4=Worst",
        }
        for n in range(1, 6)
    ]
    return definitions.validate(
        {
            "title": "Five questions",
            "version": "1",
            "items": items,
            "scoring": {"method": method, "higher_is_better": False, "mic": 1, **rules},
        }
    )


def test_sum_needs_every_item_unless_told_otherwise():
    rules = definition("sum")
    full = {"q1": 1, "q2": 2, "q3": 3, "q4": 4, "q5": 0}
    assert scoring.score(rules, full).value == Decimal("10.0")
    missing = full | {"q5": None}
    result = scoring.score(rules, missing)
    assert result.value is None
    assert result.reason == "Not scored: 4 of 5 answered."


def test_sum_prorated_scales_up_to_all_items():
    rules = definition("sum", prorate=True, min_answered=4)
    # 1 + 2 + 3 + 4 = 10 from 4 of 5 items: 10 × 5 ÷ 4 = 12.5
    assert scoring.score(rules, {"q1": 1, "q2": 2, "q3": 3, "q4": 4}).value == Decimal("12.5")
    assert scoring.score(rules, {"q1": 1, "q2": 2, "q3": 3}).value is None


def test_percent_leaves_missing_items_out_of_both_sides():
    rules = definition("percent", min_answered=3)
    # 2 + 2 + 4 = 8 of at most 3 × 4 = 12: 66.7 %
    assert scoring.score(rules, {"q1": 2, "q2": 2, "q3": 4}).value == Decimal("66.7")
    assert scoring.score(rules, {"q1": 4, "q2": 4, "q3": 4, "q4": 4, "q5": 4}).value == 100


def test_mean_and_rounding_half_up():
    rules = definition("mean", decimals=0)
    assert scoring.score(rules, {"q1": 1, "q2": 2}).value == Decimal("2")  # 1.5 rounds up
    rules = definition("mean", decimals=2)
    assert scoring.score(rules, {"q1": 1, "q2": 1, "q3": 2}).value == Decimal("1.33")


def test_value_scores_one_item():
    rules = definitions.validate(
        {
            "title": "One",
            "version": "1",
            "items": [{"id": "only", "text": "How?", "type": "integer", "min": -5, "max": 5}],
            "scoring": {"method": "value", "higher_is_better": True},
        }
    )
    assert scoring.score(rules, {"only": -3}).value == Decimal("-3.0")
    assert scoring.score(rules, {"only": None}).value is None


def test_pain_rating_is_the_mean_of_at_least_two(measures):
    pain = measures["pain-rating"].definition
    assert scoring.score(pain, {"now": 6, "average": 5, "worst": 8}).value == Decimal("6.3")
    assert scoring.score(pain, {"now": 6, "worst": 8}).value == Decimal("7.0")
    only_now = scoring.score(pain, {"now": 6})
    assert only_now.value is None and only_now.reason == "Not scored: 1 of 3 answered."


def test_function_scale_averages_the_rated_activities(measures):
    function = measures["patient-specific-function"].definition
    answers = {
        "activities": [
            {"name": "Lifting my daughter", "rating": 3},
            {"name": "Stairs", "rating": 6},
            {"name": "Sleeping on my side", "rating": None},
        ]
    }
    result = scoring.score(function, answers)
    assert result.value == Decimal("4.5")
    assert (result.answered, result.expected) == (2, 3)
    assert scoring.score(function, {"activities": []}).value is None


def test_global_change_is_its_own_rating(measures):
    change = measures["global-change"].definition
    assert scoring.score(change, {"change": -2}).value == Decimal("-2")
    assert scoring.verdict(change, Decimal(2)) == "better"
    assert scoring.verdict(change, Decimal(1)) == "same"
    assert scoring.verdict(change, Decimal(-3)) == "worse"


def test_improvement_counts_the_measure_direction(measures):
    pain = measures["pain-rating"].definition
    function = measures["patient-specific-function"].definition
    assert scoring.improvement(pain, Decimal(7), Decimal(4)) == 3  # pain fell: better
    assert scoring.improvement(function, Decimal(7), Decimal(4)) == -3  # function fell
    assert scoring.verdict(pain, Decimal("1.9")) == "same"
    assert scoring.verdict(pain, Decimal(2)) == "better"


@pytest.mark.parametrize(
    ("answers", "problem"),
    [
        ({"now": 11}, "Question 1: that answer is not one of the choices."),
        ({"now": "a lot"}, "Question 1: that answer is not one of the choices."),
        ({"now": True}, "Question 1: that answer is not one of the choices."),
    ],
)
def test_answers_out_of_range_are_refused(measures, answers, problem):
    _, problems = scoring.clean_answers(measures["pain-rating"].definition, answers)
    assert problems == [problem]


def test_answers_are_kept_in_order_with_missing_ones_empty(measures):
    answers, problems = scoring.clean_answers(
        measures["pain-rating"].definition, {"now": "4", "worst": 7, "extra": 3}
    )
    assert problems == []
    assert answers == {"now": 4, "average": None, "worst": 7}


def test_required_questions_and_activity_rules(measures):
    change = measures["global-change"].definition
    assert scoring.clean_answers(change, {})[1] == ["Question 1: please answer this one."]
    assert scoring.clean_answers(change, {"change": 4})[1] == [
        "Question 1: that answer is not one of the choices."
    ]
    function = measures["patient-specific-function"].definition
    six = [{"name": f"Activity {n}", "rating": 5} for n in range(6)]
    assert scoring.clean_answers(function, {"activities": six})[1] == [
        "Question 1: at most 5 activities."
    ]
    unnamed = [{"name": "", "rating": 5}]
    assert (
        "Question 1: name the activity you rated."
        in scoring.clean_answers(function, {"activities": unnamed})[1]
    )
