from decimal import Decimal

from django.core.management import call_command

from clinic.models import Patient
from outcomes.models import Response, Schedule
from outcomes.selectors import measures_for


def test_the_demo_has_scores_to_show(db):
    call_command("demo", password="demo-test-pw", verbosity=0)
    call_command("demo", password="demo-test-pw", verbosity=0)  # Twice: nothing more.
    jordan = Patient.objects.get(first_name="Jordan")
    assert Response.objects.filter(patient=jordan).count() == 4
    assert set(Schedule.objects.values_list("questionnaire__slug", "when")) == {
        ("pain-rating", "issue"),
        ("patient-specific-function", "every"),
        ("global-change", "review"),
    }
    summary = {
        m.questionnaire.slug: (m.baseline.score, m.latest.score, m.verdict)
        for m in measures_for(jordan)
    }
    assert summary == {
        "pain-rating": (Decimal("7.0"), Decimal("4.3"), "better"),
        "patient-specific-function": (Decimal("3.0"), Decimal("5.0"), "better"),
    }
