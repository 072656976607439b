"""Questionnaires on the patient's page: which are waiting, answering each bundled
measure with a plain form post, the answers checked by question, and who is refused."""

import datetime
import re

import pytest
from django.utils import timezone

from clinic.audit import Actor
from clinic.models import AuditEntry
from outcomes.models import Response, Schedule
from outcomes.services import schedule_add
from prescriptions.services.links import program_link_turn_off
from tests.factories import PatientFactory, PrescriptionFactory

PAIN = {"now": "4", "average": "5", "worst": "6"}


def answer_url(page_url: str, schedule) -> str:
    return f"{page_url}questionnaires/{schedule.pk}/"


def days_ago(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def flat(response) -> str:
    """The page's HTML with each run of white space as one space (attributes wrap)."""
    return re.sub(r"\s+", " ", response.content.decode())


def waiting_section(html: str) -> str:
    match = re.search(r'<section class="waiting".*?</section>', html, re.S)
    return match.group(0) if match else ""


def test_nothing_asked_shows_no_waiting_section(client, issued, page_url, measures):
    html = client.get(page_url).content.decode()
    assert "Questionnaires waiting" not in html and "Your progress" not in html


def test_a_measure_asked_now_is_waiting_with_its_link(client, page_url, ask):
    pain = ask("pain-rating")
    function = ask("patient-specific-function")
    waiting = waiting_section(client.get(page_url).content.decode())
    assert "Questionnaires waiting" in waiting
    assert "Pain rating (0 to 10)" in waiting and "Three quick numbers" in waiting
    assert waiting.count("Answer (about 1 minute)") == 2
    assert f'href="{answer_url(page_url, pain)}"' in waiting
    assert f'href="{answer_url(page_url, function)}"' in waiting


def test_a_review_date_not_reached_is_not_waiting(client, issued, page_url, ask):
    issued.review_date = timezone.localdate() + datetime.timedelta(days=10)
    issued.save()
    review = ask("pain-rating", when="review")
    assert "Questionnaires waiting" not in client.get(page_url).content.decode()
    response = client.get(answer_url(page_url, review))
    assert "Nothing to answer here now" in response.content.decode()


def test_answering_pain_stores_the_score_and_thanks(client, page_url, ask, link):
    schedule = ask("pain-rating")
    form = flat(client.get(answer_url(page_url, schedule)))
    assert "Three quick numbers about your pain" in form
    assert form.count('type="radio" name="now"') == 11
    assert "10 = Worst pain imaginable" in form and "<legend" in form
    response = client.post(answer_url(page_url, schedule), PAIN)
    assert response.status_code == 302 and response.url == f"{page_url}?answered=1#answered"
    stored = Response.objects.get()
    assert (stored.source, stored.score, stored.schedule, stored.prescription) == (
        "page",
        5,
        schedule,
        link.prescription,
    )
    assert stored.answers == {"now": 4, "average": 5, "worst": 6}
    entry = AuditEntry.objects.get(target=f"questionnaire response {stored.pk}")
    assert (entry.patient_ref, entry.detail) == (link.patient.pk, "Answered on the patient's page")
    assert entry.ip_address
    html = client.get(response.url).content.decode()
    assert "Thank you: your answers are saved" in html
    assert "Questionnaires waiting" not in html
    assert "Your progress" in html and "Pain: 5.0 on" in html and "your first answer" in html


def test_answering_global_change_stores_the_choice(client, page_url, ask):
    schedule = ask("global-change")
    form = flat(client.get(answer_url(page_url, schedule)))
    assert form.count('type="radio" name="change"') == 7 and "Very much better" in form
    assert client.post(answer_url(page_url, schedule), {"change": "2"}).status_code == 302
    assert Response.objects.get().score == 2
    html = client.get(page_url).content.decode()
    assert "Change: “Much better” on" in html


def test_answering_function_then_rating_the_same_activities_again(client, page_url, ask):
    schedule = ask("patient-specific-function")
    form = flat(client.get(answer_url(page_url, schedule)))
    assert form.count('type="text" name="activities.name.') == 5
    first = {
        "activities.name.1": "Climbing stairs",
        "activities.rating.1": "3",
        "activities.name.2": "Lifting my <b>grandson</b>",
        "activities.rating.2": "4",
    }
    assert client.post(answer_url(page_url, schedule), first).status_code == 302
    stored = Response.objects.get()
    assert stored.score == 3.5
    assert stored.answers == {
        "activities": [
            {"name": "Climbing stairs", "rating": 3},
            {"name": "Lifting my <b>grandson</b>", "rating": 4},
        ]
    }
    # Three weeks on the therapist asks again.
    Response.objects.update(answered_at=days_ago(21))
    Schedule.objects.update(starts_at=days_ago(1))
    again = flat(client.get(answer_url(page_url, schedule)))
    assert 'type="text" name="activities.name.' not in again  # Not renamed...
    assert '<input type="hidden" name="activities.name.1" value="Climbing stairs">' in again
    assert "Lifting my &lt;b&gt;grandson&lt;/b&gt;" in again  # ...and escaped.
    assert "Rate the same activities as last time" in again
    renamed = {
        "activities.name.1": "Something else",
        "activities.rating.1": "7",
        "activities.rating.2": "6",
    }
    assert client.post(answer_url(page_url, schedule), renamed).status_code == 302
    latest = Response.objects.order_by("-answered_at").first()
    assert latest.answers["activities"][0] == {"name": "Climbing stairs", "rating": 7}
    assert latest.score == 6.5
    html = client.get(page_url).content.decode()
    assert "Function: 3.5 at the start, 6.5 now — better by 3.0" in html


@pytest.mark.parametrize(
    ("slug", "data", "message"),
    [
        ("pain-rating", {"now": "4"}, "Please answer at least 2 of the questions."),
        ("pain-rating", {}, "Answer the questions below, then press Send."),
        ("pain-rating", {"now": "11", "average": "3"}, "Choose one of the answers shown."),
        ("pain-rating", {"now": "x", "average": "3"}, "Choose one of the answers shown."),
        ("global-change", {}, "Please answer this question."),
        ("global-change", {"change": "5"}, "Choose one of the answers shown."),
        ("patient-specific-function", {}, "Name at least one activity and rate it."),
        (
            "patient-specific-function",
            {"activities.rating.1": "3"},
            "Activity 1: write what the activity is.",
        ),
        (
            "patient-specific-function",
            {"activities.name.1": "Stairs"},
            "Activity 1: choose how well you can do it.",
        ),
        (
            "patient-specific-function",
            {"activities.name.1": "x" * 121, "activities.rating.1": "3"},
            "Keep each activity to 120 characters.",
        ),
    ],
)
def test_bad_answers_get_a_400_by_their_question_and_store_nothing(
    client, page_url, ask, slug, data, message
):
    schedule = ask(slug)
    response = client.post(answer_url(page_url, schedule), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Response.objects.exists()
    assert not AuditEntry.objects.filter(target__startswith="questionnaire response").exists()


def test_a_refused_form_keeps_the_answers_and_names_the_question(client, page_url, ask):
    schedule = ask("pain-rating")
    html = client.post(answer_url(page_url, schedule), {"now": "11", "average": "3"}).content
    html = html.decode()
    assert re.search(r'value="3"\s+checked', html)  # "average" kept.
    assert '<a href="#q-now">Question 1</a>' in html
    assert 'aria-describedby="q-now-error"' in html


def test_an_activity_with_a_name_keeps_it_when_refused(client, page_url, ask):
    schedule = ask("patient-specific-function")
    data = {"activities.name.1": "Gardening", "activities.name.2": "Stairs"}
    html = client.post(answer_url(page_url, schedule), data).content.decode()
    assert 'value="Gardening"' in html and 'value="Stairs"' in html


def test_answered_already_says_thank_you_and_a_second_send_stores_nothing(client, page_url, ask):
    schedule = ask("pain-rating")
    client.post(answer_url(page_url, schedule), PAIN)
    again = client.post(answer_url(page_url, schedule), PAIN)
    assert again.status_code == 200
    assert "Already answered — thank you" in again.content.decode()
    assert Response.objects.count() == 1
    assert "Already answered" in client.get(answer_url(page_url, schedule)).content.decode()


def test_a_stopped_schedule_is_not_answered(client, page_url, ask, alice):
    from outcomes.services import schedule_stop

    schedule = ask("pain-rating")
    schedule_stop(schedule=schedule, actor=Actor(alice))
    response = client.post(answer_url(page_url, schedule), PAIN)
    assert "Nothing to answer here now" in response.content.decode()
    assert not Response.objects.exists()


def test_another_program_s_schedule_is_the_plain_404(client, page_url, clinic, alice, measures):
    other = PrescriptionFactory(patient=PatientFactory(clinic=clinic), therapist=alice)
    foreign = schedule_add(
        prescription=other, questionnaire=measures["pain-rating"], when="now", actor=Actor(alice)
    )
    for url in (answer_url(page_url, foreign), f"{page_url}questionnaires/999999/"):
        assert client.get(url).status_code == 404
        assert client.post(url, PAIN).status_code == 404
    assert not Response.objects.exists()


def test_a_turned_off_link_opens_no_questionnaire(client, page_url, ask, link, alice):
    schedule = ask("pain-rating")
    program_link_turn_off(link=link, actor=Actor(alice))
    assert client.get(answer_url(page_url, schedule)).status_code == 404
    assert client.post(answer_url(page_url, schedule), PAIN).status_code == 404
    assert not Response.objects.exists()


def test_the_birth_year_comes_first(client, page_url, ask, clinic, patient):
    clinic.program_link_birth_year = True
    clinic.save()
    patient.date_of_birth = datetime.date(1958, 7, 1)
    patient.save()
    schedule = ask("pain-rating")
    response = client.get(answer_url(page_url, schedule))
    assert response.status_code == 302 and response.url == page_url
    assert client.post(answer_url(page_url, schedule), PAIN).status_code == 403
    assert not Response.objects.exists()
    client.post(page_url + "check/", {"year": "1958"})
    assert client.get(answer_url(page_url, schedule)).status_code == 200


def test_a_token_typed_with_capitals_is_sent_to_the_printed_one(client, page_url, ask):
    schedule = ask("pain-rating")
    token = page_url.split("/")[2]
    response = client.get(f"/p/{token.upper()}/questionnaires/{schedule.pk}/")
    assert response.status_code == 302 and response.url == answer_url(page_url, schedule)


def test_answer_pages_carry_the_page_s_privacy_headers(client, page_url, ask):
    response = client.get(answer_url(page_url, ask("pain-rating")))
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]


def test_a_refused_answer_is_told_once(client, page_url, ask):
    schedule = ask("global-change")
    html = client.post(answer_url(page_url, schedule), {"change": "9"}).content.decode()
    assert "Choose one of the answers shown." in html
    assert "Please answer this question." not in html


def test_larger_text_is_kept_to_the_answers_and_back(client, page_url, ask):
    schedule = ask("pain-rating")
    page = client.get(page_url + "?large=1").content.decode()
    assert f'href="{answer_url(page_url, schedule)}?large=1"' in page
    form = client.get(answer_url(page_url, schedule) + "?large=1").content.decode()
    assert 'class="large-type"' in form
    assert f'action="{answer_url(page_url, schedule)}?large=1"' in form
    response = client.post(answer_url(page_url, schedule) + "?large=1", PAIN)
    assert response.url == f"{page_url}?answered=1&large=1#answered"
