"""Issue 15, the builder's speed: dose presets per category (set by a clinic admin),
adding an exercise to a patient's draft from the exercise page, version numbers on
program titles, and a template's preview and undo in the builder's Templates box."""

import pytest
from playwright.sync_api import expect

from clinic.models import Patient
from exercises.models import Exercise
from prescriptions.models import Prescription, ProgramTemplate
from tests.browser.test_foundation_flow import demo, log_in  # noqa: F401 (fixture)

WIDTHS = [390, 820, 1280]


def log_in_as_admin(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email", exact=True).fill("admin@clinic.example")
    page.get_by_label("Password").fill("browser-test-pw")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


def a_stretch() -> Exercise:
    """A published library stretch whose first category is "stretch"."""
    for exercise in Exercise.objects.published().filter(clinic=None).order_by("name"):
        first = exercise.categories.order_by("order", "name", "pk").first()
        if first is not None and first.slug == "stretch":
            return exercise
    raise AssertionError("the library has no stretch")


@pytest.mark.parametrize("width", WIDTHS)
def test_an_admin_sets_a_stretch_preset_and_a_stretch_starts_with_it(
    page,
    live_server,
    demo,  # noqa: F811
    axe,
    width,
):
    page.set_viewport_size({"width": width, "height": 900})
    log_in_as_admin(page, live_server)
    page.goto(f"{live_server.url}/clinic/settings/")
    page.get_by_role("link", name="Dose presets").click()
    stretch = page.get_by_role("group", name="Stretch", exact=True)
    stretch.get_by_label("Hold (sec)").fill("45")
    stretch.get_by_label("Reps").fill("2")
    stretch.get_by_label("Side").select_option("each")
    assert axe(page) == []
    page.get_by_role("button", name="Save presets").click()
    expect(page.get_by_text("Dose presets saved (1 changed).")).to_be_visible()
    expect(stretch.get_by_label("Hold (sec)")).to_have_value("45")

    # In a draft, the stretch starts with the preset, not its own default dose.
    exercise = a_stretch()
    draft = Prescription.objects.filter(status="draft").first()
    page.goto(f"{live_server.url}/prescriptions/{draft.pk}/edit/?q={exercise.name}")
    page.wait_for_load_state("load")
    page.locator(f"#library-results button[name=add_exercise][value='{exercise.pk}']").click()
    expect(page.locator("#plan").get_by_text(f"Added {exercise.name}.")).to_be_visible()
    item = page.locator("#plan .plan-item").last
    expect(item.locator("legend")).to_contain_text(exercise.name)
    expect(item.locator("input[name$='-hold_seconds']")).to_have_value("45")
    expect(item.locator("input[name$='-reps']")).to_have_value("2")
    expect(item.locator("select[name$='-side']")).to_have_value("each")


@pytest.mark.parametrize("width", WIDTHS)
def test_an_exercise_goes_into_a_patients_draft_from_its_page(
    page,
    live_server,
    demo,  # noqa: F811
    axe,
    width,
):
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server)
    draft = Prescription.objects.filter(status="draft").select_related("patient").first()
    exercise = (
        Exercise.objects.published()
        .filter(clinic=None)
        .exclude(prescription_items__prescription=draft)
        .order_by("name")
        .first()
    )
    page.goto(f"{live_server.url}{exercise.get_absolute_url()}")
    assert axe(page) == []
    form = page.locator(".add-to-program")
    form.get_by_label("Patient", exact=True).select_option(str(draft.patient_id))
    form.get_by_role("button", name="Add to program").click()
    page.wait_for_url(f"{live_server.url}/prescriptions/{draft.pk}/edit/")
    expect(page.get_by_text(f"Added {exercise.name}.")).to_be_visible()
    expect(page.locator("#plan .plan-item legend").last).to_contain_text(exercise.name)

    # A patient without a draft: a new one is started.
    patient = Patient.objects.exclude(prescriptions__status="draft").filter(
        prescriptions__therapist__email="therapist@clinic.example"
    )[0]
    page.goto(f"{live_server.url}{exercise.get_absolute_url()}")
    form.get_by_label("Patient", exact=True).select_option(str(patient.pk))
    form.get_by_role("button", name="Add to program").click()
    expect(page.get_by_text(f"Added {exercise.name}. A new draft for")).to_be_visible()
    new = Prescription.objects.get(patient=patient, status="draft")
    assert page.url.endswith(f"/prescriptions/{new.pk}/edit/")


@pytest.mark.parametrize("width", WIDTHS)
def test_versions_are_numbered(page, live_server, demo, axe, width):  # noqa: F811
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server)
    issued = Prescription.objects.filter(status="issued").first()
    page.goto(f"{live_server.url}{issued.get_absolute_url()}")
    expect(page.locator(".rx-version")).to_have_count(0)  # one version: no number
    page.get_by_role("button", name="Change (new version)").click()
    page.wait_for_load_state("load")
    expect(page.locator(".breadcrumb .rx-version")).to_have_text("v2")
    expect(page.get_by_role("link", name=f"{issued.title} v1")).to_be_visible()
    page.goto(f"{live_server.url}{issued.patient.get_absolute_url()}")
    expect(page.get_by_role("link", name=f"{issued.title} v2")).to_be_visible()
    expect(page.get_by_role("link", name=f"{issued.title} v1")).to_be_visible()
    assert axe(page) == []
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("link", name=f"{issued.title} v2")).to_be_visible()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_template_is_previewed_then_added_and_undone(
    page,
    live_server,
    demo,  # noqa: F811
    axe,
    width,
):
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server)
    draft = Prescription.objects.filter(status="draft").first()
    before = list(draft.items.values_list("pk", flat=True))
    template = ProgramTemplate.objects.get(name="Knee: early strengthening")
    page.goto(f"{live_server.url}/prescriptions/{draft.pk}/edit/")
    page.wait_for_load_state("load")
    page.locator(".templates-box summary").click()
    page.get_by_label("Start from a template").select_option(str(template.pk))
    preview = page.locator("#template-preview")
    expect(preview).to_contain_text(f"“{template.name}”: 5 exercises")
    first = template.items.select_related("exercise").first()
    expect(preview).to_contain_text(f"{first.exercise.name}: {first.dose}")
    assert draft.items.count() == len(before)  # the preview adds nothing
    assert axe(page) == []

    page.get_by_role("button", name="Add its exercises").click()
    plan = page.locator("#plan")
    # The offer is beside the button pressed, on screen (not only at the plan's top).
    offer = plan.locator(".template-undo")
    expect(offer).to_contain_text(f"from “{template.name}”.")
    expect(offer).to_be_in_viewport()
    added = draft.items.count() - len(before)
    assert added > 0
    undo = offer.get_by_role("button", name="Undo")
    expect(undo).to_be_visible()
    expect(page.get_by_label("Start from a template")).to_be_visible()  # the box stays open
    assert axe(page) == []
    undo.click()
    expect(plan.get_by_text(f"Undone: removed {added} exercise")).to_be_visible()
    assert list(draft.items.values_list("pk", flat=True)) == before
    expect(plan.get_by_role("button", name="Undo")).to_have_count(0)
