from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from exercises.models import Exercise
from tests.clinic.test_images import picture
from tests.factories import ExerciseFactory


def exercise_data(**changes):
    return {
        "name": "Towel calf stretch",
        "summary": "Sitting, pull a towel around the foot.",
        "indications": "tight calves after running",
        "steps": "Sit tall.\nLoop the towel.\nPull gently.",
        "hold_seconds": "30",
        "reps": "3",
        "side": "each",
        "times_per_day": "2",
        "position": "sitting",
        "difficulty": "easy",
        **changes,
    }


def test_therapist_adds_a_clinic_exercise_with_a_picture(alice_client, clinic):
    response = alice_client.post(
        reverse("exercises:create"),
        exercise_data(image=picture("JPEG", size=(2400, 1800)), image_alt="A person with a towel"),
    )
    exercise = Exercise.objects.get(name="Towel calf stretch")
    assert response.url == exercise.get_absolute_url()
    assert (exercise.clinic, exercise.status) == (clinic, "published")
    assert [s.text for s in exercise.steps.all()] == [
        "Sit tall.",
        "Loop the towel.",
        "Pull gently.",
    ]
    image = exercise.images.get()
    assert image.is_main and image.alt_text == "A person with a towel"
    assert max(image.image.width, image.image.height) == 1600
    names = [
        e.name
        for e in alice_client.get(reverse("exercises:list"), {"q": "running"}).context["page"]
    ]
    assert names == ["Towel calf stretch"]


def test_bad_exercise_input_gets_clear_messages(alice_client):
    svg = SimpleUploadedFile("pic.png", b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    response = alice_client.post(
        reverse("exercises:create"),
        exercise_data(steps="  \n ", hold_seconds="0", reps="", image=svg),
    )
    errors = response.context["form"].errors
    assert "Write at least one step." in errors["steps"]
    assert "Ensure this value is greater than or equal to 1." in errors["hold_seconds"]
    assert "Upload a valid image" in " ".join(errors["image"])
    assert not Exercise.objects.exists()


def test_a_picture_needs_a_description(alice_client):
    response = alice_client.post(reverse("exercises:create"), exercise_data(image=picture()))
    assert "Describe the picture" in " ".join(response.context["form"].errors["image_alt"])


def test_other_clinics_never_see_a_clinic_exercise(client, alice_client, charlie, clinic):
    alice_client.post(reverse("exercises:create"), exercise_data())
    exercise = Exercise.objects.get()
    client.force_login(charlie)
    assert client.get(exercise.get_absolute_url()).status_code == 404
    names = [e.name for e in client.get(reverse("exercises:list"), {"q": "towel"}).context["page"]]
    assert names == []


def test_copy_a_shared_exercise_to_adapt_it(alice_client, clinic):
    shared = ExerciseFactory(name="Calf raise", steps=["Stand.", "Rise.", "Lower."])
    response = alice_client.post(reverse("exercises:copy", args=[shared.slug]))
    copy = Exercise.objects.get(clinic=clinic)
    assert response.url == reverse("exercises:edit", args=[copy.slug])
    assert copy.name == "Calf raise (our version)" and copy.slug != shared.slug
    assert [s.text for s in copy.steps.all()] == ["Stand.", "Rise.", "Lower."]
    alice_client.post(
        reverse("exercises:edit", args=[copy.slug]),
        exercise_data(name="Calf raise, slow", steps="Stand.\nRise slowly."),
    )
    copy.refresh_from_db()
    shared.refresh_from_db()
    assert copy.name == "Calf raise, slow" and shared.name == "Calf raise"
    assert [s.text for s in shared.steps.all()] == ["Stand.", "Rise.", "Lower."]


def test_a_copy_keeps_the_drawing_its_moving_version_and_side(alice_client, clinic):
    """The clinic's copy has files of its own: the still drawing, the moving one and the
    side it shows (so the copy is mirrored for the other side like the original)."""
    from django.core.files.base import ContentFile

    from exercises.models import ExerciseImage

    shared = ExerciseFactory(name="Clamshell")
    drawing = ExerciseImage(exercise=shared, alt_text="Knees open.", is_main=True, side="left")
    drawing.image.save("still.svg", ContentFile(b"<svg>still</svg>"), save=False)
    drawing.animation.save("still-moving.svg", ContentFile(b"<svg>moving</svg>"), save=False)
    drawing.save()
    alice_client.post(reverse("exercises:copy", args=[shared.slug]))
    copied = Exercise.objects.get(clinic=clinic).images.get()
    assert (copied.is_main, copied.side, copied.alt_text) == (True, "left", "Knees open.")
    assert copied.image.name != drawing.image.name
    assert copied.animation.name != drawing.animation.name
    assert copied.animation.read() == b"<svg>moving</svg>"


def test_shared_exercises_cannot_be_edited_from_the_staff_app(alice_client):
    shared = ExerciseFactory(name="Calf raise")
    assert alice_client.get(reverse("exercises:edit", args=[shared.slug])).status_code == 404


def test_a_copy_that_fails_leaves_no_files(alice_client, clinic):
    """The moving drawing is gone (a library reload removed the row's file): the copy is
    refused and the still drawing it had already copied is not left behind."""
    import pytest
    from django.core.files.base import ContentFile

    from exercises.models import ExerciseImage
    from exercises.services import exercise_copy_to_clinic

    shared = ExerciseFactory(name="Clamshell")
    drawing = ExerciseImage(exercise=shared, alt_text="Knees open.", is_main=True)
    drawing.image.save("still.svg", ContentFile(b"<svg>still</svg>"), save=False)
    drawing.animation.save("gone-moving.svg", ContentFile(b"<svg/>"), save=False)
    drawing.save()
    storage = drawing.image.storage
    storage.delete(drawing.animation.name)

    def files(folder="exercises"):
        if not storage.exists(folder):
            return set()
        folders, names = storage.listdir(folder)
        found = {f"{folder}/{name}" for name in names}
        return found.union(*(files(f"{folder}/{sub}") for sub in folders))

    before = files()
    with pytest.raises(FileNotFoundError):
        exercise_copy_to_clinic(exercise=shared, clinic=clinic, by=None)
    assert files() == before
