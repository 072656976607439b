from django.urls import reverse

from clinic.audit import Actor
from prescriptions import services
from prescriptions.models import Prescription
from tests.helpers import pdf_text


def builder_data(rx, **changes):
    """The builder form as the browser would post it, with some fields changed."""
    items = list(rx.items.order_by("order"))
    data = {
        "title": rx.title,
        "advice": rx.advice,
        "review_date": "",
        "log_weeks": str(rx.log_weeks),
        **({"large_print": "on"} if rx.large_print else {}),
        "items-TOTAL_FORMS": str(len(items)),
        "items-INITIAL_FORMS": str(len(items)),
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
    }
    for i, item in enumerate(items):
        for name in ("hold_seconds", "reps", "sets", "times_per_day", "days_per_week"):
            value = getattr(item, name)
            data[f"items-{i}-{name}"] = "" if value is None else str(value)
        data.update(
            {
                f"items-{i}-side": item.side,
                f"items-{i}-note": item.note,
                f"items-{i}-order": str(item.order),
                f"items-{i}-id": str(item.pk),
            }
        )
    data.update(changes)
    return data


def test_new_prescription_starts_a_draft_and_opens_the_builder(alice_client, patient, alice):
    response = alice_client.post(reverse("patients:prescription_create", args=[patient.pk]))
    rx = Prescription.objects.get(patient=patient)
    assert response.url == reverse("prescriptions:edit", args=[rx.pk])
    assert rx.status == "draft" and rx.therapist == alice and rx.clinic == patient.clinic


def test_builder_search_and_add_prefills_the_default_dose(alice_client, patient, exercises):
    rx = Prescription.objects.create(
        clinic=patient.clinic, patient=patient, therapist=patient.created_by
    )
    url = reverse("prescriptions:edit", args=[rx.pk])
    page = alice_client.get(url, {"q": "psoas"}).content.decode()
    assert "Standing psoas stretch" in page and "Glute bridge" not in page
    response = alice_client.post(
        f"{url}?q=psoas", {**builder_data(rx), "add_exercise": exercises[0].pk}
    )
    assert response.status_code == 302 and "q=psoas" in response.url
    item = rx.items.get()
    assert (item.exercise, item.hold_seconds, item.reps, item.side) == (exercises[0], 30, 3, "each")


def test_dose_change_is_saved_and_printed(alice_client, draft):
    url = reverse("prescriptions:edit", args=[draft.pk])
    response = alice_client.post(
        url,
        builder_data(draft, **{"items-0-hold_seconds": "45", "items-0-note": "Left side first"}),
    )
    assert response.status_code == 302
    first = draft.items.order_by("order").first()
    assert (first.hold_seconds, first.note) == (45, "Left side first")
    pdf = alice_client.get(reverse("prescriptions:handout", args=[draft.pk])).content
    text = pdf_text(pdf)
    assert "Hold 45 seconds · 3 repetitions · twice a day Both sides, one after the other" in text
    assert "Left side first" in text


def test_bad_doses_get_clear_messages_and_nothing_is_saved(alice_client, draft):
    url = reverse("prescriptions:edit", args=[draft.pk])
    for bad, message in [
        ("-5", "greater than or equal to 1"),
        ("99999", "less than or equal to 3600"),
        ("abc", "whole number"),
    ]:
        response = alice_client.post(
            url, builder_data(draft, **{"items-0-hold_seconds": bad, "title": "Changed"})
        )
        assert response.status_code == 200
        assert message in response.content.decode()
        draft.refresh_from_db()
        assert draft.title == "Hips and back"
        assert draft.items.order_by("order").first().hold_seconds == 30


def test_an_item_needs_a_hold_or_a_count(alice_client, draft):
    url = reverse("prescriptions:edit", args=[draft.pk])
    blank = {f"items-0-{n}": "" for n in ("hold_seconds", "reps", "sets")}
    response = alice_client.post(url, builder_data(draft, **blank))
    assert "Give at least a hold time or a number of times." in response.content.decode()


def test_move_up_and_remove(alice_client, draft, exercises):
    url = reverse("prescriptions:edit", args=[draft.pk])
    bridge = draft.items.get(exercise=exercises[2])
    alice_client.post(url, {**builder_data(draft), "move": f"{bridge.pk}:up"})
    assert [i.exercise.name for i in draft.items.order_by("order")] == [
        "Standing psoas stretch",
        "Glute bridge",
        "Standing quadriceps stretch",
    ]
    alice_client.post(url, builder_data(draft, **{"items-0-DELETE": "on"}))
    assert [i.exercise.name for i in draft.items.order_by("order")] == [
        "Glute bridge",
        "Standing quadriceps stretch",
    ]
    assert [i.order for i in draft.items.order_by("order")] == [0, 1]


def test_save_and_issue_freezes_the_prescription(alice_client, draft):
    url = reverse("prescriptions:edit", args=[draft.pk])
    response = alice_client.post(url, {**builder_data(draft), "issue": ""})
    assert response.url == reverse("prescriptions:detail", args=[draft.pk])
    draft.refresh_from_db()
    assert draft.status == "issued" and draft.issued_at is not None
    # An issued prescription is read-only.
    assert alice_client.get(url).status_code == 302
    alice_client.post(url, builder_data(draft, title="Changed"))
    draft.refresh_from_db()
    assert draft.title == "Hips and back"


def test_dose_changed_in_the_same_save_and_issue_is_printed(alice_client, draft):
    url = reverse("prescriptions:edit", args=[draft.pk])
    alice_client.post(url, {**builder_data(draft, **{"items-0-hold_seconds": "45"}), "issue": ""})
    draft.refresh_from_db()
    assert draft.status == "issued"
    assert draft.handout.snapshot["items"][0]["dose"].startswith("Hold 45 seconds")
    assert "Hold 45 seconds · 3 repetitions · twice a day" in pdf_text(draft.handout.pdf.read())


def test_issuing_an_empty_prescription_is_refused(alice_client, patient, alice):
    rx = Prescription.objects.create(clinic=patient.clinic, patient=patient, therapist=alice)
    response = alice_client.post(reverse("prescriptions:issue", args=[rx.pk]), follow=True)
    assert "Add at least one exercise before issuing." in response.content.decode()
    rx.refresh_from_db()
    assert rx.status == "draft"


def test_cannot_add_another_clinics_private_exercise(alice_client, draft, other_clinic):
    from tests.factories import ExerciseFactory

    theirs = ExerciseFactory(name="Their secret exercise", clinic=other_clinic)
    url = reverse("prescriptions:edit", args=[draft.pk])
    response = alice_client.post(url, {**builder_data(draft), "add_exercise": theirs.pk})
    assert response.status_code == 404
    assert not draft.items.filter(exercise=theirs).exists()


def test_dashboard_lists_my_recent_prescriptions(alice_client, draft):
    page = alice_client.get(reverse("dashboard")).content.decode()
    assert "Hips and back" in page and "Jordan Ellis" in page


def test_start_from_a_bundled_template_and_save_as_a_clinic_template(
    alice_client, patient, alice, clinic
):
    from django.conf import settings

    from exercises.services import library_load, read_library_file
    from prescriptions.models import ProgramTemplate
    from prescriptions.services import templates_load

    library_load(entries=read_library_file(settings.OPENHEP_LIBRARY_DIR / "exercises.json"))
    entries = read_library_file(settings.OPENHEP_LIBRARY_DIR / "templates.json")
    assert templates_load(entries=entries) == len(entries)
    assert templates_load(entries=entries) == 0
    hips = ProgramTemplate.objects.get(slug="tight-hip-flexors-anterior-pelvic-tilt")
    rx = Prescription.objects.create(clinic=clinic, patient=patient, therapist=alice)
    url = reverse("prescriptions:edit", args=[rx.pk])
    assert "Tight hip flexors / anterior pelvic tilt" in alice_client.get(url).content.decode()
    alice_client.post(url, {**builder_data(rx), "apply_template": "", "template": hips.pk})
    names = [i.exercise.slug for i in rx.items.order_by("order")]
    assert names == [i["exercise"] for i in entries[0]["items"]]
    rx.refresh_from_db()
    assert rx.advice == hips.advice
    response = alice_client.post(
        url, {**builder_data(rx), "save_template": "", "template_name": "Hips, our way"}
    )
    assert response.status_code == 302
    ours = ProgramTemplate.objects.get(clinic=clinic)
    assert ours.name == "Hips, our way" and ours.items.count() == len(names)


def test_other_clinics_templates_are_not_offered_or_applied(
    alice_client, patient, alice, clinic, other_clinic, exercises
):
    from prescriptions.models import ProgramTemplate, TemplateItem

    theirs = ProgramTemplate.objects.create(
        clinic=other_clinic, name="Their secret plan", slug="secret"
    )
    TemplateItem.objects.create(template=theirs, exercise=exercises[0], hold_seconds=30)
    rx = Prescription.objects.create(clinic=clinic, patient=patient, therapist=alice)
    url = reverse("prescriptions:edit", args=[rx.pk])
    assert "Their secret plan" not in alice_client.get(url).content.decode()
    response = alice_client.post(
        url, {**builder_data(rx), "apply_template": "", "template": theirs.pk}
    )
    assert response.status_code == 404
    assert not rx.items.exists()


def test_changing_an_issued_prescription_makes_a_new_version(alice_client, issued, bob):
    stored = issued.handout.pdf.open("rb").read()
    response = alice_client.post(reverse("prescriptions:new_version", args=[issued.pk]))
    draft = Prescription.objects.get(supersedes=issued)
    assert response.url == reverse("prescriptions:edit", args=[draft.pk])
    assert draft.status == "draft" and draft.items.count() == issued.items.count()
    # Asking again reuses the open draft.
    alice_client.post(reverse("prescriptions:new_version", args=[issued.pk]))
    assert Prescription.objects.filter(supersedes=issued).count() == 1
    page = alice_client.get(reverse("prescriptions:edit", args=[draft.pk])).content.decode()
    assert "Issuing this one replaces it" in page
    url = reverse("prescriptions:edit", args=[draft.pk])
    alice_client.post(url, {**builder_data(draft, **{"items-0-hold_seconds": "45"}), "issue": ""})
    issued.refresh_from_db()
    draft.refresh_from_db()
    assert (issued.status, draft.status) == ("superseded", "issued")
    assert issued.handout.pdf.open("rb").read() == stored
    old_page = alice_client.get(issued.get_absolute_url()).content.decode()
    assert "This version was replaced" in old_page and "Change (new version)" not in old_page
    assert "Hold 45 seconds" in pdf_text(draft.handout.pdf.open("rb").read())
    # A superseded version cannot start another.
    alice_client.post(reverse("prescriptions:new_version", args=[issued.pk]))
    assert Prescription.objects.filter(supersedes=issued).count() == 1


def test_start_from_the_previous_prescription(alice_client, issued, alice):
    rx = Prescription.objects.create(clinic=issued.clinic, patient=issued.patient, therapist=alice)
    url = reverse("prescriptions:edit", args=[rx.pk])
    alice_client.post(url, {**builder_data(rx), "copy_previous": ""})
    assert [i.exercise_id for i in rx.items.order_by("order")] == [
        i.exercise_id for i in issued.items.order_by("order")
    ]


def test_a_new_version_copying_the_previous_one_does_not_double_it(alice_client, issued):
    """A new version starts with the issued one's exercises; pressing "Add the exercises
    of the previous prescription" there used to add every one of them a second time."""
    alice_client.post(reverse("prescriptions:new_version", args=[issued.pk]))
    rx = Prescription.objects.get(supersedes=issued)
    before = [(i.exercise_id, i.reps) for i in rx.items.order_by("order")]
    url = reverse("prescriptions:edit", args=[rx.pk])
    response = alice_client.post(url, {**builder_data(rx), "copy_previous": ""}, follow=True)
    assert [(i.exercise_id, i.reps) for i in rx.items.order_by("order")] == before
    page = response.content.decode()
    names = ", ".join(i.exercise.name for i in issued.items.order_by("order"))
    assert "Nothing new from the previous prescription." in page
    assert f"Already in the plan, left as they are: {names}." in page


def test_a_template_adds_only_what_the_plan_lacks(alice_client, draft, alice):
    template = services.template_save_from(prescription=draft, name="Hips", actor=Actor(alice))
    first = draft.items.order_by("order").first()
    first.delete()
    url = reverse("prescriptions:edit", args=[draft.pk])
    data = {**builder_data(draft), "apply_template": "", "template": str(template.pk)}
    response = alice_client.post(url, data, follow=True)
    exercises = [i.exercise_id for i in draft.items.all()]
    assert sorted(exercises) == sorted(set(exercises))  # nothing twice
    assert first.exercise_id in exercises
    assert "Added 1 exercise from “Hips”." in response.content.decode()
    assert "Already in the plan, left as they are:" in response.content.decode()


def test_no_previous_prescription_is_a_clear_message(alice_client, patient, alice):
    rx = Prescription.objects.create(clinic=patient.clinic, patient=patient, therapist=alice)
    url = reverse("prescriptions:edit", args=[rx.pk])
    response = alice_client.post(url, {**builder_data(rx), "copy_previous": ""}, follow=True)
    assert "no earlier prescription" in response.content.decode()


HTMX = {"HTTP_HX_REQUEST": "true"}


def test_live_search_returns_only_the_results(alice_client, draft):
    url = reverse("prescriptions:edit", args=[draft.pk])
    response = alice_client.get(url, {"q": "glute"}, HTTP_HX_TARGET="library-results", **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="library-results">')
    assert "Glute bridge" in html and "<html" not in html and 'id="plan-form"' not in html


def test_htmx_add_returns_the_plan_with_its_message(alice_client, draft, exercises):
    url = reverse("prescriptions:edit", args=[draft.pk])
    response = alice_client.post(
        url, {**builder_data(draft), "add_exercise": exercises[1].pk}, **HTMX
    )
    html = response.content.decode()
    assert html.lstrip().startswith("<section") and 'id="plan"' in html
    assert "Added Standing quadriceps stretch." in html
    assert html.count('class="plan-item') == 4


def test_htmx_reorder_saves_the_dropped_order(alice_client, draft):
    url = reverse("prescriptions:edit", args=[draft.pk])
    items = list(draft.items.order_by("order"))
    data = builder_data(draft, **{"items-0-order": "2", "items-1-order": "0", "items-2-order": "1"})
    alice_client.post(url, {**data, "reorder": ""}, **HTMX)
    assert [i.pk for i in draft.items.order_by("order")] == [items[1].pk, items[2].pk, items[0].pk]


def test_htmx_save_and_issue_redirects_the_whole_page(alice_client, draft):
    url = reverse("prescriptions:edit", args=[draft.pk])
    response = alice_client.post(url, {**builder_data(draft), "issue": ""}, **HTMX)
    assert response["HX-Redirect"] == reverse("prescriptions:detail", args=[draft.pk])
    draft.refresh_from_db()
    assert draft.status == "issued"


def test_htmx_invalid_dose_returns_the_plan_with_errors(alice_client, draft):
    url = reverse("prescriptions:edit", args=[draft.pk])
    response = alice_client.post(url, builder_data(draft, **{"items-0-reps": "-1"}), **HTMX)
    html = response.content.decode()
    assert 'id="plan"' in html and "Please correct the highlighted fields." in html
    assert "greater than or equal to 1" in html
