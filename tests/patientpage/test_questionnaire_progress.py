"""What the patient reads back about their scores, a clinic's own questionnaire on the
page (its words escaped), and a worse score as the therapist sees it on the dashboard."""

import datetime
import json
import re

from django.urls import reverse
from django.utils import timezone

from clinic.audit import Actor
from outcomes.models import Response
from outcomes.selectors import measures_for
from outcomes.services import questionnaire_import, schedule_add
from patientpage.models import FollowUp
from patientpage.questionnaires import sentence
from patientpage.services import questionnaire_enter_from_paper
from tests.outcomes.conftest import answered

D = datetime.date


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


def told(patient, slug: str) -> str:
    return sentence(next(m for m in measures_for(patient) if m.questionnaire.slug == slug))


def test_pain_lower_is_better_and_better_only_past_the_mic(patient, measures):
    pain = measures["pain-rating"]
    answered(patient, pain, {"now": 7, "average": 8, "worst": 8}, days_ago(30))
    assert told(patient, "pain-rating").startswith("Pain: 7.7 on ")
    assert told(patient, "pain-rating").endswith("your first answer")
    answered(patient, pain, {"now": 7, "average": 7, "worst": 7}, days_ago(20))
    assert told(patient, "pain-rating") == "Pain: 7.7 at the start, 7.0 now — about the same"
    answered(patient, pain, {"now": 4, "average": 5, "worst": 6}, days_ago(10))
    assert told(patient, "pain-rating") == "Pain: 7.7 at the start, 5.0 now — better by 2.7"
    answered(patient, pain, {"now": 10, "average": 10, "worst": 10}, days_ago(1))
    assert told(patient, "pain-rating") == "Pain: 7.7 at the start, 10.0 now — worse by 2.3"


def test_function_higher_is_better(patient, measures):
    function = measures["patient-specific-function"]
    answered(patient, function, {"activities": [{"name": "Stairs", "rating": 6}]}, days_ago(20))
    answered(patient, function, {"activities": [{"name": "Stairs", "rating": 3}]}, days_ago(1))
    assert told(patient, "patient-specific-function") == (
        "Function: 6.0 at the start, 3.0 now — worse by 3.0"
    )


def test_the_change_rating_is_told_in_its_words(patient, measures):
    answered(patient, measures["global-change"], {"change": -1}, D(2026, 3, 4))
    assert told(patient, "global-change") == "Change: “A little worse” on 4 Mar"


def test_progress_on_the_page_has_a_chart_a_key_each(client, issued, page_url, measures):
    patient = issued.patient
    answered(patient, measures["pain-rating"], {"now": 6, "average": 6}, days_ago(14))
    answered(patient, measures["pain-rating"], {"now": 3, "average": 3}, days_ago(1))
    answered(patient, measures["global-change"], {"change": 2}, days_ago(1))
    html = client.get(page_url).content.decode()
    assert "Your progress" in html
    assert "Pain: 6.0 at the start, 3.0 now — better by 3.0" in html
    assert "Lower is better." in html and "Change: “Much better”" in html
    keys = re.findall(r'aria-labelledby="(progress-\d+)-title', html)
    assert len(keys) == 2 and len(set(keys)) == 2


HOSTILE = "<script>alert(1)</script>"


def test_a_clinic_s_own_questionnaire_is_shown_escaped(client, issued, page_url, alice, clinic):
    definition = {
        "slug": "neck",
        "version": "1",
        "title": f"Neck {HOSTILE}",
        "short_title": "Neck",
        "description": f"About your neck {HOSTILE}",
        "licence": "Ours.",
        "items": [
            {"id": "stiff", "text": f"Stiff? {HOSTILE}", "type": "integer", "min": 0, "max": 4},
            {"id": "words", "text": "Anything else?", "type": "text"},
        ],
        "scoring": {"method": "value", "items": ["stiff"], "higher_is_better": False},
    }
    neck = questionnaire_import(
        clinic=clinic,
        name="neck.json",
        content=json.dumps(definition).encode(),
        actor=Actor(alice),
    )
    schedule = schedule_add(prescription=issued, questionnaire=neck, when="now", actor=Actor(alice))
    url = f"{page_url}questionnaires/{schedule.pk}/"
    for html in (client.get(page_url).content.decode(), client.get(url).content.decode()):
        assert HOSTILE not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count('name="stiff"') == 5 and "<textarea" in html
    response = client.post(url, {"stiff": "2", "words": f"Better {HOSTILE}"})
    assert response.status_code == 302
    stored = Response.objects.get()
    assert (stored.score, stored.answers["words"]) == (2, f"Better {HOSTILE}")


def test_a_worse_score_reads_plainly_and_can_be_handled(alice_client, issued, measures, alice):
    patient = issued.patient
    for day, (now, average) in ((days_ago(20), (3, 3)), (timezone.localdate(), (6, 5))):
        questionnaire_enter_from_paper(
            patient=patient,
            questionnaire=measures["pain-rating"],
            answers={"now": now, "average": average},
            answered_on=day,
            actor=Actor(alice),
            prescription=issued,
        )
    worse = "Pain score worse by 2.5 since the start (3.0 → 5.5)"
    assert worse in alice_client.get(reverse("dashboard")).content.decode()
    assert worse in alice_client.get(patient.get_absolute_url()).content.decode()
    follow_up = FollowUp.objects.get(reason="worse")
    response = alice_client.post(
        reverse("loop:followups_handled", args=[patient.pk]), {"follow_up": follow_up.pk}
    )
    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.handled_by == alice
    assert worse not in alice_client.get(reverse("dashboard")).content.decode()


def test_a_worse_change_rating_reads_plainly(alice_client, issued, measures, alice):
    questionnaire_enter_from_paper(
        patient=issued.patient,
        questionnaire=measures["global-change"],
        answers={"change": -2},
        answered_on=timezone.localdate(),
        actor=Actor(alice),
        prescription=issued,
    )
    assert "Change: rated “Much worse”" in alice_client.get(reverse("dashboard")).content.decode()


def test_the_page_s_queries_do_not_grow_with_answers(
    client, issued, page_url, measures, ask, django_assert_max_num_queries
):
    ask("pain-rating")
    patient = issued.patient
    answered(patient, measures["pain-rating"], {"now": 6, "average": 6}, days_ago(30))
    with django_assert_max_num_queries(40) as one:
        client.get(page_url)
    for n in range(1, 8):
        answered(patient, measures["pain-rating"], {"now": n, "average": n}, days_ago(30 - n))
        answered(patient, measures["global-change"], {"change": n % 3}, days_ago(30 - n))
    with django_assert_max_num_queries(len(one.captured_queries)):
        html = client.get(page_url).content.decode()
    assert html.count("<figure") == 2


def test_worse_scores_on_the_dashboard_cost_no_query_each(
    alice_client, clinic, alice, issued, measures, django_assert_max_num_queries
):
    from tests.factories import PatientFactory, PrescriptionFactory

    def worse_patient(n: int):
        patient = PatientFactory(clinic=clinic, last_name=f"Worse{n}")
        rx = PrescriptionFactory(patient=patient, therapist=alice)
        for day, score in ((days_ago(20), 2), (timezone.localdate(), 6)):
            questionnaire_enter_from_paper(
                patient=patient,
                questionnaire=measures["pain-rating"],
                answers={"now": score, "average": score},
                answered_on=day,
                actor=Actor(alice),
                prescription=rx,
            )

    worse_patient(0)
    with django_assert_max_num_queries(40) as one:
        alice_client.get(reverse("dashboard"))
    for n in range(1, 6):
        worse_patient(n)
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = alice_client.get(reverse("dashboard")).content.decode()
    assert page.count("Pain score worse by 4.0 since the start (2.0 → 6.0)") == 6
