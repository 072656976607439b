"""The therapist sees the loop: adherence, difficulty, pain and notes on the prescription
page, the patient's record and the patient list; the link's buttons; the paper log."""

import datetime
import html
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from clinic.audit import Actor
from clinic.models import AuditEntry, User
from patientpage.charts import adherence_chart, pain_chart
from patientpage.loop import PainPoint, program_loop, sessions_per_week
from patientpage.models import FollowUp, SessionLog
from prescriptions import links, services
from prescriptions.models import Prescription, ProgramLink
from prescriptions.selectors import get_prescription_for
from tests.factories import ItemFactory, PatientFactory, PrescriptionFactory
from tests.patientpage.conftest import token_of
from tests.patientpage.helpers import issue_on, log


def days_ago(n: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=n)


@pytest.fixture
def started(issued):
    """``issued`` (psoas and quads twice a day, bridge once a day 4 days a week),
    issued 15 days ago: 16 days, in three program weeks."""
    return issue_on(issued, days_ago(15))


def test_sessions_per_week_follow_the_most_often_done_exercise():
    items = [
        SimpleNamespace(times_per_day=2, days_per_week=None),  # 14 a week
        SimpleNamespace(times_per_day=1, days_per_week=4),  # 4 a week
        SimpleNamespace(times_per_day=None, days_per_week=None),  # once a day: 7
    ]
    assert sessions_per_week(items) == 14
    assert sessions_per_week([]) == 0


def test_adherence_for_a_known_set_of_sessions(started, alice):
    psoas, quads, bridge = started.items.all()
    start = days_ago(15)
    day = lambda n: start + datetime.timedelta(days=n)  # noqa: E731
    # Week 1: three sessions; week 2: one; week 3: one, and one with nothing ticked.
    log(started, day(0), done=[psoas, quads, bridge], pain=4)
    log(started, day(1), done=[psoas, quads, bridge], difficulty={bridge: "right"})
    log(started, day(3), done=[psoas])
    log(started, day(8), done=[psoas, quads], pain=5)
    log(started, day(14), done=[bridge], difficulty={quads: "easy"})
    log(started, day(15), difficulty={bridge: "hard"}, note="Bridge hurt.")

    loop = program_loop(get_prescription_for(alice, started.pk))

    assert [(w.number, w.done, w.prescribed) for w in loop.weeks] == [
        (1, 3, 14),
        (2, 1, 14),
        (3, 1, 14),
    ]
    assert [w.current for w in loop.weeks] == [False, False, True]
    assert loop.this_week is loop.weeks[-1]
    # Sessions: 5 of ceil(14 × 16 / 7) = 32 so far.
    assert (loop.sessions, loop.prescribed, loop.percent) == (5, 32, 16)
    rows = {row.item.exercise.name: row for row in loop.exercises}
    assert (rows["Standing psoas stretch"].done, rows["Standing psoas stretch"].prescribed) == (
        4,
        32,
    )
    assert rows["Standing quadriceps stretch"].done == 3
    # The bridge is 4 days a week: ceil(4 × 16 / 7) = 10.
    assert (rows["Glute bridge"].done, rows["Glute bridge"].prescribed) == (3, 10)
    assert rows["Glute bridge"].last_difficulty == "hard"
    assert rows["Glute bridge"].last_difficulty_label == "Too hard"
    assert rows["Standing quadriceps stretch"].last_difficulty == "easy"
    assert rows["Standing psoas stretch"].last_difficulty == ""
    assert [(p.day, p.pain) for p in loop.pain] == [(day(0), 4), (day(8), 5)]
    assert [n.text for n in loop.notes] == ["Bridge hurt."]
    assert timezone.localdate(loop.last_activity) == day(15)


def test_a_replaced_version_is_counted_until_the_new_one_was_issued(started, alice):
    draft = services.prescription_new_version(prescription=started, actor=Actor(alice))
    services.prescription_issue(prescription=draft, actor=Actor(alice))
    issue_on(draft, days_ago(5))
    started.refresh_from_db()
    loop = program_loop(get_prescription_for(alice, started.pk))
    # Days 0–9 only (10 days): the second week is the replaced version's last.
    assert [w.number for w in loop.weeks] == [1, 2]
    assert not any(w.current for w in loop.weeks)


def test_a_draft_has_no_loop(alice_client, draft):
    page = alice_client.get(draft.get_absolute_url()).content.decode()
    assert "How it is going" not in page and "Patient page" not in page


def test_prescription_page_shows_the_loop_with_text_alternatives(alice_client, started):
    psoas, quads, bridge = started.items.all()
    log(started, days_ago(10), done=[psoas, quads], pain=3)
    log(
        started,
        days_ago(2),
        done=[psoas],
        difficulty={bridge: "hard"},
        pain=6,
        note="<b>Sore</b> after the bridge",
    )
    page = alice_client.get(started.get_absolute_url()).content.decode()

    # The patient page panel: on, its address and QR code, the two buttons.
    token = token_of(started)
    assert "Patient page" in page and links.page_url(token) in page
    assert 'src="data:image/svg+xml' in page
    assert reverse("loop:link_off", args=[started.pk]) in page
    assert reverse("loop:link_renew", args=[started.pk]) in page
    # Each chart is an image with a name, a caption with the figures, and a table.
    assert page.count('role="img"') == 2
    assert 'aria-labelledby="adherence-title adherence-caption"' in page
    assert "<caption>Sessions per week</caption>" in page
    assert "<caption>Pain after each session (0 none to 10 worst)</caption>" in page
    assert "2 of 32 (6%) sessions since" in " ".join(page.split())
    text = " ".join(html.unescape(page).split())
    assert "Latest pain 6 of 10" in text and "first 3" in text
    for week in ("Week 1", "Week 2", "Week 3 (this week)"):
        assert week in text
    # Per exercise, with the last difficulty in words.
    assert "Too hard" in page and "1 of 32 (3%)" in text
    assert reverse("prescriptions:adjust", args=[started.pk]) in page
    # The patient's note, escaped.
    assert "&lt;b&gt;Sore&lt;/b&gt; after the bridge" in page
    assert "<b>Sore</b>" not in page
    # The paper log form lists the exercises.
    assert reverse("loop:paper_session", args=[started.pk]) in page
    assert page.count('name="done"') == 3


def test_the_page_works_with_no_session_yet(alice_client, issued):
    page = alice_client.get(issued.get_absolute_url()).content.decode()
    assert "No session logged yet" in page
    assert "No pain score logged yet." in page
    assert "0 of 2 (0%) sessions since" in " ".join(page.split())


def test_charts_scale_and_place_points():
    chart = adherence_chart(
        [
            SimpleNamespace(number=1, done=7, prescribed=14, current=False),
            SimpleNamespace(number=2, done=20, prescribed=14, current=True),
        ]
    )
    assert chart is not None
    first, second = chart.bars
    # The tallest bar (20 done) fills the plot; the others are to scale.
    assert second.done_height == pytest.approx(120)
    assert first.done_height == pytest.approx(120 * 7 / 20)
    assert first.prescribed_height == pytest.approx(120 * 14 / 20)
    assert adherence_chart([]) is None

    today = datetime.date(2026, 11, 1)
    line = pain_chart([PainPoint(today, 0), PainPoint(today + datetime.timedelta(days=10), 10)])
    assert line is not None
    low, high = line.points
    assert low.y == line.baseline and high.y == line.baseline - 120
    assert low.x < high.x
    assert pain_chart([]) is None


def test_paper_entry_stores_a_session(alice_client, alice, issued):
    psoas, quads, bridge = issued.items.all()
    yesterday = days_ago(1)
    response = alice_client.post(
        reverse("loop:paper_session", args=[issued.pk]),
        {"day": yesterday.isoformat(), "done": [psoas.pk, bridge.pk], "pain": "4"},
        follow=True,
    )
    assert "entered from the paper log" in response.content.decode()
    session = SessionLog.objects.get()
    assert session.source == SessionLog.Source.PAPER and session.entered_by == alice
    assert timezone.localdate(session.started_at) == yesterday and session.pain == 4
    assert {row.item_id for row in session.exercises.filter(done=True)} == {psoas.pk, bridge.pk}
    assert AuditEntry.objects.filter(
        patient=issued.patient, target=f"session {session.pk}", actor=alice
    ).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"day": "2999-01-01", "pain": "3"}, "That day has not come yet."),
        ({"pain": "3"}, "Tick at least one exercise"),
        ({"pain": "11"}, "less than or equal to 10"),
    ],
)
def test_paper_entry_refuses_bad_input_with_a_message(alice_client, issued, data, message):
    item = issued.items.first()
    data = {"day": days_ago(1).isoformat(), **data}
    if "Tick" not in message:
        data["done"] = [item.pk]
    response = alice_client.post(reverse("loop:paper_session", args=[issued.pk]), data, follow=True)
    assert message in html.unescape(response.content.decode())
    assert not SessionLog.objects.exists()


def test_paper_entry_refuses_an_exercise_of_another_program(alice_client, issued, patient):
    other = PrescriptionFactory(patient=patient)
    stranger = ItemFactory(prescription=other)
    response = alice_client.post(
        reverse("loop:paper_session", args=[issued.pk]),
        {"day": days_ago(1).isoformat(), "done": [stranger.pk]},
        follow=True,
    )
    assert "Select a valid choice" in response.content.decode()
    assert not SessionLog.objects.exists()


def test_turn_off_then_new_link(alice_client, client, issued):
    old_token = token_of(issued)
    response = alice_client.post(reverse("loop:link_off", args=[issued.pk]), follow=True)
    assert "Patient page turned off" in response.content.decode()
    link = ProgramLink.objects.get(prescription=issued)
    assert link.ended_reason == ProgramLink.Ended.OFF
    page = response.content.decode()
    assert "Turned off by the clinic" in page and links.page_url(old_token) not in page

    response = alice_client.post(reverse("loop:link_renew", args=[issued.pk]), follow=True)
    new = ProgramLink.objects.get(prescription=issued, ended_at__isnull=True)
    new_token = links.token_of(new)
    assert new_token and new_token != old_token
    assert links.page_url(new_token) in response.content.decode()
    assert AuditEntry.objects.filter(target=f"program link {new.pk}").exists()
    # Turning off twice is harmless.
    alice_client.post(reverse("loop:link_off", args=[issued.pk]))
    alice_client.post(reverse("loop:link_off", args=[issued.pk]))
    assert not ProgramLink.objects.filter(prescription=issued, ended_at__isnull=True).exists()


def test_buttons_are_get_proof(alice_client, issued):
    for name in ("loop:link_off", "loop:link_renew", "loop:paper_session"):
        assert alice_client.get(reverse(name, args=[issued.pk])).status_code == 405
    assert ProgramLink.objects.get(prescription=issued).is_on


def test_other_clinic_cannot_use_the_buttons(client, charlie, issued):
    client.force_login(charlie)
    item = issued.items.first()
    for name, data in [
        ("loop:link_off", {}),
        ("loop:link_renew", {}),
        ("loop:paper_session", {"day": days_ago(1).isoformat(), "done": [item.pk]}),
        ("prescriptions:adjust", {"item": item.pk, "direction": "easier"}),
    ]:
        assert client.post(reverse(name, args=[issued.pk]), data).status_code == 404
    assert ProgramLink.objects.get(prescription=issued).is_on
    assert not SessionLog.objects.exists()
    assert issued.patient.prescriptions.count() == 1


def test_patient_list_shows_last_activity_in_flat_queries(
    alice_client, clinic, patient, issued, django_assert_max_num_queries
):
    log(issued, days_ago(3), done=[issued.items.first()])
    # The programs were written before the sessions: the sessions are the last activity.
    month_ago = timezone.now() - datetime.timedelta(days=30)
    Prescription.objects.update(updated_at=month_ago)
    Prescription.objects.exclude(issued_at=None).update(issued_at=month_ago)
    url = reverse("patients:list")
    with django_assert_max_num_queries(30) as one:
        page = alice_client.get(url).content.decode()
    assert "Last activity" in page and "days ago</time>" in page

    for n in range(8):
        other = PatientFactory(clinic=clinic, last_name=f"Many{n}")
        rx = PrescriptionFactory(patient=other)
        log(rx, days_ago(n + 1))
    Prescription.objects.update(updated_at=month_ago)
    Prescription.objects.exclude(issued_at=None).update(issued_at=month_ago)
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = alice_client.get(url).content.decode()
    assert page.count("ago</time>") == 9


def test_patient_record_sums_up_the_loop(alice_client, started):
    psoas = started.items.first()
    log(started, days_ago(1), done=[psoas], pain=5)
    log(started, days_ago(0), done=[psoas], pain=7, hour=7)
    FollowUp.objects.create(
        clinic=started.clinic,
        patient=started.patient,
        prescription=started,
        reason=FollowUp.Reason.PAIN_HIGH,
    )
    page = alice_client.get(started.patient.get_absolute_url()).content.decode()
    text = " ".join(html.unescape(page).split())
    assert "Lately" in text
    assert "2 of 14 sessions" in text
    assert "7 of 10" in text
    assert "Pain 7 or more" in text
    assert f"{started.get_absolute_url()}#progress" in page


def test_patient_record_without_a_program(alice_client, patient):
    page = alice_client.get(patient.get_absolute_url()).content.decode()
    assert "Lately" in page and "None yet" in page and "nothing open" in page


def test_the_demo_has_a_loop_to_show(db, client):
    call_command("demo", password="demo-test-pw", verbosity=0)
    call_command("demo", password="demo-test-pw", verbosity=0)  # Twice: nothing more.
    assert SessionLog.objects.count() == 12
    assert set(FollowUp.objects.values_list("reason", flat=True)) == {
        FollowUp.Reason.PAIN_HIGH,
        FollowUp.Reason.PAIN_UP,
        FollowUp.Reason.TOO_HARD,
        FollowUp.Reason.NOTE,
    }
    client.force_login(User.objects.get(email="therapist@clinic.example"))
    page = client.get(reverse("dashboard")).content.decode()
    assert "Jordan Ellis" in page.split("Who needs a call")[1]


def test_prescription_page_queries_do_not_grow_with_sessions(
    alice_client, started, django_assert_max_num_queries
):
    psoas, quads, bridge = started.items.all()
    log(started, days_ago(14), done=[psoas], pain=3, note="First go.")
    with django_assert_max_num_queries(60) as one:
        alice_client.get(started.get_absolute_url())
    for n in range(14):
        log(
            started,
            days_ago(n),
            done=[psoas, quads, bridge],
            difficulty={bridge: "hard"},
            pain=n % 10,
            note=f"Day {n}.",
        )
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = alice_client.get(started.get_absolute_url()).content.decode()
    # The ten latest notes.
    assert "Day 0." in page and "Day 9." in page and "Day 10." not in page
    assert "The 10 latest notes." in page
