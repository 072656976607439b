import factory
from django.utils.text import slugify

from clinic.models import Clinic, Membership, Patient, User
from exercises.models import Exercise, ExerciseStep
from prescriptions.models import Prescription, PrescriptionItem

PASSWORD = "correct-horse-battery"


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic

    name = factory.Sequence(lambda n: f"Clinic {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    phone = "(03) 9000 1234"
    email = factory.LazyAttribute(lambda o: f"front-desk@{o.slug}.example")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"staff{n}@clinic.example")
    first_name = "Pat"
    last_name = factory.Sequence(lambda n: f"Staff{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    clinic = factory.SubFactory(ClinicFactory)
    role = Membership.Role.THERAPIST
    title = "Myotherapist"


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    clinic = factory.SubFactory(ClinicFactory)
    first_name = factory.Sequence(lambda n: f"Robin{n}")
    last_name = "Example"
    email = factory.LazyAttribute(lambda o: f"{o.first_name.lower()}@patient.example")
    email_consent = True


class ExerciseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Exercise
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Exercise {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    summary = "A gentle movement."
    status = Exercise.Status.PUBLISHED
    hold_seconds = 30
    reps = 3
    side = "each"
    times_per_day = 2

    @factory.post_generation
    def steps(obj, create, extracted, **kwargs):
        if create:
            for order, text in enumerate(extracted or ["Get ready.", "Move gently.", "Relax."]):
                ExerciseStep.objects.create(exercise=obj, order=order, text=text)


class PrescriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Prescription

    patient = factory.SubFactory(PatientFactory)
    clinic = factory.LazyAttribute(lambda o: o.patient.clinic)
    therapist = factory.SubFactory(UserFactory)


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PrescriptionItem

    prescription = factory.SubFactory(PrescriptionFactory)
    exercise = factory.SubFactory(ExerciseFactory)
    hold_seconds = 30
    reps = 3
    side = "each"
    times_per_day = 2
    order = factory.Sequence(int)
