"""Issuing: one short write freezes the plan, WeasyPrint runs after it outside any
lock (tests/prescriptions/test_handout_task.py has the task itself), a failed issue
leaves nothing behind, and a double click is harmless."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.urls import reverse

from clinic.audit import Actor
from clinic.models import AuditEntry
from prescriptions import handouts, services
from prescriptions.models import Handout, Prescription
from prescriptions.services import previews, programs
from tests.factories import ExerciseFactory, PrescriptionFactory
from tests.helpers import pdf_text
from tests.prescriptions.test_builder import builder_data


def stored_handouts(storage) -> list[str]:
    try:
        clinics = storage.listdir("handouts")[0]
    except FileNotFoundError:
        return []
    return [
        f"{c}/{p}/{f}"
        for c in clinics
        for p in storage.listdir(f"handouts/{c}")[0]
        for f in storage.listdir(f"handouts/{c}/{p}")[1]
    ]


@pytest.mark.django_db(transaction=True)
def test_the_handout_renders_outside_any_transaction(draft, alice, monkeypatch):
    """A render holds no lock: on SQLite a write lock would stop the whole clinic."""
    seen = []
    render = handouts.render_pdf

    def watching(*args, **kwargs):
        seen.append(connection.in_atomic_block)
        return render(*args, **kwargs)

    monkeypatch.setattr(handouts, "render_pdf", watching)
    services.prescription_issue(prescription=draft, actor=Actor(alice))
    assert seen == [False]
    draft.refresh_from_db()
    assert draft.status == Prescription.Status.ISSUED


@pytest.mark.django_db(transaction=True)
def test_a_failed_issue_removes_its_stored_file(draft, alice, monkeypatch):
    storage = Handout._meta.get_field("pdf").storage

    def no_audit(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(programs, "_audit", no_audit)
    with pytest.raises(RuntimeError):
        services.prescription_issue(prescription=draft, actor=Actor(alice))
    draft.refresh_from_db()
    assert draft.status == Prescription.Status.DRAFT
    assert not Handout.objects.exists()
    assert stored_handouts(storage) == []


@pytest.mark.django_db(transaction=True)
def test_the_handout_prints_the_plan_as_frozen_by_the_issue(draft, alice, monkeypatch):
    """The snapshot is taken under the issue's lock; the drawing reads only that, so a
    change written while it draws (here one that bypasses the services) never reaches it."""
    render = handouts.render_pdf
    calls = []

    def editing_meanwhile(snapshot, **kwargs):
        draft.items.filter(order=0).update(hold_seconds=45)
        calls.append(snapshot)
        return render(snapshot, **kwargs)

    monkeypatch.setattr(handouts, "render_pdf", editing_meanwhile)
    handout = services.prescription_issue(prescription=draft, actor=Actor(alice))
    assert len(calls) == 1
    assert "Hold 30 seconds" in handout.snapshot["items"][0]["dose"]
    assert "Hold 45 seconds" not in " ".join(pdf_text(handout.pdf.read()).split())
    storage = Handout._meta.get_field("pdf").storage
    assert stored_handouts(storage) == [handout.pdf.name.removeprefix("handouts/")]


def test_issuing_twice_returns_the_same_handout_and_one_entry(draft, alice):
    first = services.prescription_issue(prescription=draft, actor=Actor(alice))
    second = services.prescription_issue(prescription=draft, actor=Actor(alice))
    assert first.pk == second.pk
    issued = AuditEntry.objects.filter(detail="Issued", target=f"prescription {draft.pk}")
    assert issued.count() == 1


def test_a_double_click_on_save_and_issue_shows_the_issued_page(alice_client, draft, monkeypatch):
    """The second click's request loaded the draft before the first one issued it."""
    save = services.prescription_save

    def first_click_wins(**kwargs):
        services.prescription_issue(prescription=draft, actor=Actor(draft.therapist))
        return save(**kwargs)

    monkeypatch.setattr(services, "prescription_save", first_click_wins)
    url = reverse("prescriptions:edit", args=[draft.pk])
    response = alice_client.post(url, builder_data(draft, issue="1"))
    assert response.status_code == 302
    assert response.url == reverse("prescriptions:detail", args=[draft.pk])
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert texts == ["This prescription is issued. The handout is ready."]


def test_a_later_second_click_also_lands_on_the_issued_page(alice_client, draft):
    url = reverse("prescriptions:edit", args=[draft.pk])
    data = builder_data(draft, issue="1")
    assert alice_client.post(url, data).status_code == 302
    response = alice_client.post(url, data, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("prescriptions:detail", args=[draft.pk])
    assert Handout.objects.filter(prescription=draft).count() == 1


def test_a_later_second_click_through_htmx_loads_the_issued_page(alice_client, draft):
    url = reverse("prescriptions:edit", args=[draft.pk])
    data = builder_data(draft, issue="1")
    assert alice_client.post(url, data).status_code == 302
    response = alice_client.post(url, data, headers={"HX-Request": "true"})
    assert response.status_code == 200 and not response.has_header("Location")
    assert response["HX-Redirect"] == reverse("prescriptions:detail", args=[draft.pk])


def test_a_program_holds_at_most_the_limit(settings, draft, alice, exercises):
    """Template round trips cannot double a plan without end (13: 16 requests, 256 items)."""
    from django.core.exceptions import ValidationError

    settings.OPENHEP_MAX_ITEMS = 4
    actor = Actor(alice)
    services.prescription_add_exercise(prescription=draft, exercise=exercises[0], actor=actor)
    with pytest.raises(ValidationError, match="at most 4 exercises. This one has 4, so it is full"):
        services.prescription_add_exercise(prescription=draft, exercise=exercises[1], actor=actor)
    # Its own template adds nothing (its exercises are in the plan), so nothing doubles.
    template = services.template_save_from(prescription=draft, name="Four", actor=actor)
    appended = services.template_apply(prescription=draft, template=template, actor=actor)
    assert appended.added == 0 and len(appended.already) == 4
    assert draft.items.count() == 4


def test_the_builder_says_why_an_exercise_was_not_added(settings, alice_client, draft, exercises):
    settings.OPENHEP_MAX_ITEMS = 3
    url = reverse("prescriptions:edit", args=[draft.pk])
    response = alice_client.post(
        url, builder_data(draft, add_exercise=str(exercises[0].pk)), follow=True
    )
    assert response.status_code == 200
    assert "A program can hold at most 3 exercises" in response.content.decode()
    assert draft.items.count() == 3


def test_a_template_apply_that_would_overflow_adds_nothing(settings, draft, alice):
    from django.core.exceptions import ValidationError

    settings.OPENHEP_MAX_ITEMS = 5
    actor = Actor(alice)
    other = PrescriptionFactory(patient=draft.patient, therapist=alice)
    for n in range(3):
        services.prescription_add_exercise(
            prescription=other, exercise=ExerciseFactory(name=f"Other {n}"), actor=actor
        )
    template = services.template_save_from(prescription=other, name="Three", actor=actor)
    with pytest.raises(ValidationError, match="room for 2 more"):
        services.template_apply(prescription=draft, template=template, actor=actor)
    assert draft.items.count() == 3


def test_a_draft_preview_is_rendered_once_per_content(alice_client, draft, monkeypatch):
    render, calls = handouts.render_pdf, []

    def counting(*args, **kwargs):
        calls.append(1)
        return render(*args, **kwargs)

    monkeypatch.setattr(handouts, "render_pdf", counting)
    url = reverse("prescriptions:handout", args=[draft.pk])
    first = alice_client.get(url)
    second = alice_client.get(url)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content and len(calls) == 1
    draft.items.filter(order=0).update(hold_seconds=50)  # A changed plan renders again.
    assert b"50 seconds" not in first.content
    assert alice_client.get(url).status_code == 200 and len(calls) == 2


def test_a_second_preview_while_one_renders_is_told_to_wait(alice_client, draft, alice):
    """Previews never queue: a user already drawing one, or a process with every
    slot taken, gets a clear 'busy' page (20 parallel previews once starved /healthz)."""
    from django.core.cache import cache

    cache.add(f"openhep:preview-busy:{alice.pk}", 1)
    response = alice_client.get(reverse("prescriptions:handout", args=[draft.pk]))
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "still being drawn" in response.content.decode()
    cache.delete(f"openhep:preview-busy:{alice.pk}")


def test_a_busy_process_refuses_instead_of_queueing(alice_client, draft, monkeypatch):
    import threading

    slots = threading.BoundedSemaphore(1)
    slots.acquire()  # Another request is drawing.
    monkeypatch.setattr(previews, "_process_slots", slots)
    response = alice_client.get(reverse("prescriptions:handout", args=[draft.pk]))
    assert response.status_code == 503
    assert "Several previews" in response.content.decode()
    slots.release()
    assert alice_client.get(reverse("prescriptions:handout", args=[draft.pk])).status_code == 200


def test_a_bundled_template_with_a_bad_dose_is_refused_by_the_one_dose_rule(exercises):
    from django.core.exceptions import ValidationError

    entry = {
        "slug": "bad-dose",
        "name": "Bad dose",
        "items": [
            {
                "exercise": exercises[0].slug,
                "dose": {"hold_seconds": None, "reps": None, "sets": None},
            }
        ],
    }
    exercises[0].clinic = None
    exercises[0].save()
    with pytest.raises(ValidationError, match="Template bad-dose, item 1"):
        services.templates_load(entries=[entry])
