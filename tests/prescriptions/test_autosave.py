"""The builder's autosave (``prescriptions:autosave``) and the "Preview handout" button
without JavaScript: what they save, what they refuse, who may use them, what they
audit, and the preview drawn ahead after a save when a worker runs the tasks."""

import pytest
from django.urls import reverse

from clinic.models import AuditEntry
from prescriptions import handouts, preview_tasks
from prescriptions.models import Prescription
from prescriptions.services import previews
from tests.helpers import pdf_text
from tests.prescriptions.test_builder import builder_data


def autosave(client, rx, **changes):
    return client.post(reverse("prescriptions:autosave", args=[rx.pk]), builder_data(rx, **changes))


def first_item(rx):
    return rx.items.order_by("order").first()


def test_an_autosave_keeps_the_edits_and_answers_without_a_page(alice_client, draft):
    response = autosave(alice_client, draft, title="Knees, week two", **{"items-0-reps": "7"})
    assert response.status_code == 200
    answer = response.json()
    assert answer["saved"] is True
    # The dose in words for the line under the fields, which the page does not redraw.
    assert answer["doses"][str(first_item(draft).pk)] == (
        "Hold 30 seconds · 7 repetitions · each side · twice a day"
    )
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    draft.refresh_from_db()
    assert draft.title == "Knees, week two" and first_item(draft).reps == 7


def test_invalid_input_is_not_saved_and_the_reason_names_the_field(alice_client, draft):
    reps = first_item(draft).reps
    response = autosave(alice_client, draft, title="Changed", **{"items-0-reps": "-2"})
    assert response.status_code == 200
    answer = response.json()
    assert answer["saved"] is False
    assert answer["reason"].startswith("Standing psoas stretch, reps:")
    draft.refresh_from_db()
    # Nothing of the post is kept, the valid title included: never a half-saved plan.
    assert draft.title == "Hips and back" and first_item(draft).reps == reps


def test_a_dose_with_no_amount_is_named_by_its_exercise_and_counted(alice_client, draft):
    empty = {f"items-0-{name}": "" for name in ("hold_seconds", "reps", "sets")}
    answer = autosave(alice_client, draft, title="", **empty).json()
    assert answer["saved"] is False
    assert answer["reason"].startswith("Title: ") and answer["reason"].endswith("(and 1 more)")
    answer = autosave(alice_client, draft, **empty).json()
    assert (
        answer["reason"]
        == "Standing psoas stretch, hold (sec): Give at least a hold time or a number of times."
    )


def test_an_issued_prescription_is_never_changed_by_an_autosave(alice_client, issued):
    response = autosave(alice_client, issued, title="Changed after issue")
    assert response.status_code == 409
    assert "issued" in response.json()["reason"]
    issued.refresh_from_db()
    assert issued.title == "Hips and back" and issued.status == Prescription.Status.ISSUED


def test_a_colleague_may_autosave_and_another_clinic_gets_404(client, draft, bob, charlie):
    client.force_login(charlie)
    assert autosave(client, draft, title="Not yours").status_code == 404
    client.force_login(bob)
    assert autosave(client, draft, title="Bob's edit").json()["saved"] is True
    draft.refresh_from_db()
    assert draft.title == "Bob's edit"


def test_only_a_post_and_only_signed_in(client, alice, draft):
    url = reverse("prescriptions:autosave", args=[draft.pk])
    response = client.post(url, builder_data(draft, title="Anonymous"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    client.force_login(alice)
    assert client.get(url).status_code == 405
    draft.refresh_from_db()
    assert draft.title == "Hips and back"


def entries(rx):
    return AuditEntry.objects.filter(target=f"prescription {rx.pk}", detail="Draft saved")


def test_an_autosave_is_audited_like_save_draft_once_per_change(alice_client, draft):
    autosave(alice_client, draft, **{"items-0-reps": "7"})
    assert entries(draft).count() == 1
    # The same plan posted again (a save after a pause with nothing new) writes nothing.
    draft.refresh_from_db()
    autosave(alice_client, draft)
    assert entries(draft).count() == 1
    entry = entries(draft).get()
    assert entry.action == AuditEntry.Action.CHANGE and entry.actor.email == "alice@clinic.example"


def test_preview_without_javascript_saves_the_plan_then_shows_it(alice_client, draft):
    url = reverse("prescriptions:edit", args=[draft.pk])
    response = alice_client.post(url, builder_data(draft, preview="", **{"items-0-reps": "9"}))
    assert response.status_code == 302
    assert response.url == reverse("prescriptions:handout", args=[draft.pk])
    assert first_item(draft).reps == 9
    assert "9 repetitions" in pdf_text(alice_client.get(response.url).content)


def test_with_the_immediate_backend_an_autosave_draws_nothing(
    alice_client, draft, settings, monkeypatch
):
    """``make run``: the autosave stays quick; the click draws the preview."""
    settings.OPENHEP_PREVIEW_PRERENDER = True
    drawn = []
    monkeypatch.setattr(previews, "_draw", lambda snapshot: drawn.append(1) or b"%PDF")
    assert autosave(alice_client, draft, title="Quick").json()["saved"] is True
    assert drawn == [] and not preview_tasks.prerender_wanted()


@pytest.mark.django_db(transaction=True)
def test_with_a_worker_each_autosave_draws_the_preview_ahead(
    db_tasks, client, draft, alice, settings, monkeypatch
):
    """The click after a pause is a cache hit: the worker drew what was saved."""
    from django.core.management import call_command

    settings.OPENHEP_PREVIEW_PRERENDER = True
    client.force_login(alice)
    assert autosave(client, draft, **{"items-0-reps": "11"}).json()["saved"] is True
    call_command(
        "db_worker", batch=True, no_startup_delay=True, verbosity=0
    )  # The pause: the worker draws.
    render, calls = handouts.render_pdf, []
    monkeypatch.setattr(handouts, "render_pdf", lambda *a, **k: calls.append(1) or render(*a, **k))
    response = client.get(reverse("prescriptions:handout", args=[draft.pk]))
    assert response.status_code == 200 and calls == []
    assert "11 repetitions" in pdf_text(response.content)


@pytest.mark.django_db(transaction=True)
def test_with_prerender_off_nothing_is_queued(db_tasks, alice_client, draft, settings):
    """A cache local to each process (the default without CACHE_URL): the worker's
    drawing would never reach the web processes, so none is queued."""
    from django_tasks_db.models import DBTaskResult

    settings.OPENHEP_PREVIEW_PRERENDER = False
    assert autosave(alice_client, draft, title="Later").json()["saved"] is True
    assert not DBTaskResult.objects.filter(
        task_path=preview_tasks.prerender_preview.module_path
    ).exists()
