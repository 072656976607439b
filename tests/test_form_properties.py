"""Bad input anywhere gives a clear form error, never a 500.

Hypothesis throws random and hostile values at the main forms and at the views
that use them: unicode, control characters and NUL (PostgreSQL refuses NUL in
text, a classic 500), strings past 10,000 characters, markup, SQL, emoji,
right-to-left text, huge, negative and non-numeric numbers, impossible dates,
garbage uploads and missing fields. The properties:

- validating never raises, and an invalid form says what is wrong, on a field
  or on the whole form;
- a valid form saves through the service the view uses, stores what the form
  cleaned, and what is stored passes the model's own validation (no NUL, no
  number past a column's range);
- a view answers 200 with the errors or redirects, never 500, and an invalid
  post leaves the database as it was.

Fixtures are set up once per test; each example runs in its own savepoint,
rolled back at its end (``example()``), so examples never see each other's writes.
"""

import io
import os
import string
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import pytest
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models, transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image

from clinic.audit import Actor
from clinic.forms import ClinicForm, PatientForm
from clinic.models import Clinic, Patient
from clinic.services import clinic_update, patient_create, patient_update
from exercises.forms import ExerciseForm
from exercises.models import Category, Equipment, Exercise, ExerciseImage, ExerciseStep, Region
from exercises.services import clinic_exercise_save
from prescriptions.forms import EmailHandoutForm, ItemFormSet, PrescriptionForm
from prescriptions.models import Prescription, PrescriptionItem, ProgramTemplate, TemplateItem
from prescriptions.services import prescription_save
from tests.factories import (
    ExerciseFactory,
    ItemFactory,
    PrescriptionFactory,
)

# The same examples on every run (derandomize), nothing written into the checkout
# (database=None), and a failure prints the blob that replays it. Locally,
# OPENHEP_HYPOTHESIS=explore hunts with fresh random examples, many more of them.
settings.register_profile(
    "openhep-ci",
    derandomize=True,
    database=None,
    print_blob=True,
    max_examples=75,
    deadline=None,  # each example renders pages and writes rows: timings vary by machine
    # Safe here: the function-scoped fixtures (database, settings, users, records) are
    # made once per test, and every example undoes its own writes (``example()``) and
    # uses a fresh test client, so no example sees another's state.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "openhep-explore", settings.get_profile("openhep-ci"), derandomize=False, max_examples=1000
)
PROFILE = settings.get_profile(f"openhep-{os.environ.get('OPENHEP_HYPOTHESIS', 'ci')}")


# Strategies ---------------------------------------------------------------------

# Lone surrogates cannot be encoded as UTF-8, so no browser can send them.
CHARS = st.characters(exclude_categories=("Cs",))
HOSTILE = [
    "\x00",
    "a\x00b",
    "\x01\x02\x1b[31m\x7f",
    "\t\r\n",
    "\r\n\r\n",
    "\u2028\u2029\x85\x0b\x0c",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7*7 }}{% debug %}",
    "'; DROP TABLE clinic_patient; --",
    "' OR '1'='1",
    "%s %d %(x)s {0} {patient} {",
    "../../etc/passwd",
    "😀🏳️‍🌈👩🏽‍⚕️",
    "مريض جديد",
    "שלום עולם",
    "\u202egnp.exe",
    "\u200b\u200d\ufeff",
    "ǅ ß ẞ İ ı ﬃ",
    "Z̷̛͔a̸l̷g̶o̵",
    "null",
    "None",
    "NaN",
    " ",
    "",
]
long_text = st.builds(
    lambda char, n: char * n,
    st.sampled_from(["a", "é", "😀", "\x00", " ", "\n", "<", "9"]),
    st.integers(10_000, 12_000),
)
hostile_text = st.one_of(
    st.text(CHARS, max_size=80),
    st.sampled_from(HOSTILE),
    st.tuples(
        st.text(string.ascii_letters, max_size=10),
        st.sampled_from(HOSTILE),
        st.text(CHARS, max_size=10),
    ).map("".join),
    long_text,
)


def mixed(plausible):
    """Often a value a person would type (so valid forms get saved), often not."""
    return st.one_of(plausible, hostile_text)


words = st.text(string.ascii_letters + " -'éøñ", min_size=1, max_size=40)
prose = st.text(CHARS, max_size=400)
NUMBER_EDGES = [
    "0",
    "-1",
    "1",
    "7",
    "12",
    "20",
    "21",
    "500",
    "501",
    "3600",
    "3601",
    "32767",
    "32768",
    "65536",
    str(2**31),
    str(2**63),
    str(10**30),
    str(-(10**30)),
    "1.5",
    "2.0",
    "1e3",
    "1e309",
    "nan",
    "inf",
    "0x10",
    "٣",
    "１２",
    " 5 ",
    "5\x00",
    "abc",
    "",
]
numbers = st.one_of(
    st.sampled_from(NUMBER_EDGES),
    st.integers().map(str),
    st.floats().map(str),
    hostile_text,
)
# What a tampered id looks like: past 32 and 64 bits, negative, not a whole number.
ids = st.one_of(
    st.sampled_from(["0", "-1", "32768", str(2**63 - 1), str(2**63), str(10**30), "1.0", "abc"]),
    numbers,
)
DATE_EDGES = [
    "2025-02-30",
    "2023-02-29",
    "0000-01-01",
    "0001-01-01",
    "1899-12-31",
    "1900-01-01",
    "31/12/2025",
    "12/31/2025",
    "2025-13-01",
    "2025-00-10",
    "2025-1-1",
    "9999-12-31",
    "10000-01-01",
    "-2025-01-01",
    "2025-01-01T10:00",
    "2025-01-01\x00",
    "１９９０-０１-０１",
    "today",
    "",
]
dates = st.one_of(st.dates().map(date.isoformat), st.sampled_from(DATE_EDGES), hostile_text)
EMAIL_EDGES = [
    "user@example.com",
    "a@b",
    "a@localhost",
    '"quoted"@example.com',
    "a@[127.0.0.1]",
    "a@exa\x00mple.com",
    "ü@bücher.de",
    "a@xn--",
    "a" * 65 + "@example.com",
    "a@" + "b" * 250 + ".com",
    "a@b.c\nBcc: x@y.z",
]
emails = st.one_of(st.emails(), st.sampled_from(EMAIL_EDGES), hostile_text)
URL_EDGES = [
    "https://example.com/video",
    "javascript:alert(1)",
    "http://[::1",
    "http://",
    "https://exa mple.com",
    "http://例え.jp",
    "https://" + "a" * 300 + ".com",
    "ftp://example.com",
    "//evil.example",
    "data:text/html,<script>alert(1)</script>",
    "https://example.com/\x00",
]
urls = st.one_of(st.sampled_from(URL_EDGES), hostile_text)
flags = st.sampled_from(["on", "", "off", "false", "0", "1", "True", "\x00"])


@dataclass(frozen=True)
class Field:
    """What a person would type in a field, and what an attacker or a bad day might."""

    plausible: st.SearchStrategy
    hostile: st.SearchStrategy = hostile_text


WORDS = Field(words)
PROSE = Field(prose)
COUNT = Field(st.integers(1, 7).map(str), numbers)  # 1-7 fits every dose field
BIRTHDAY = Field(st.dates(date(1900, 1, 1), date(2020, 12, 31)).map(date.isoformat), dates)
EMAIL = Field(st.sampled_from(["", "sam@example.com", "front-desk@clinic.example"]), emails)
URL = Field(st.sampled_from(["", "https://example.com/video"]), urls)
FLAG = Field(st.sampled_from(["on", ""]), flags)
PHONE = Field(st.from_regex(r"\+?[0-9 ()-]{6,20}", fullmatch=True))


def choice(values, *nearly):
    return Field(st.sampled_from(values), st.one_of(st.sampled_from([*nearly, ""]), hostile_text))


def _post(valid, plausible, hostile, left_out):
    data = {**valid, **dict(plausible), **dict(hostile)}
    for name in left_out:
        data.pop(name, None)
    return data


def form_data(valid: dict, **fields: Field):
    """What a browser might post: a valid form with a few fields changed, at most one of
    them to a hostile value, maybe one left out (so one bad value meets otherwise good
    data and valid forms get saved too); or any subset of the fields, any values."""
    names = st.sampled_from(sorted(fields))
    plausible = names.flatmap(lambda name: st.tuples(st.just(name), fields[name].plausible))
    hostile = names.flatmap(lambda name: st.tuples(st.just(name), fields[name].hostile))
    nearly_valid = st.builds(
        _post,
        st.just(valid),
        st.lists(plausible, max_size=3),
        st.lists(hostile, max_size=1),
        st.sets(st.sampled_from(sorted(valid)), max_size=1),
    )
    values = {name: st.one_of(f.plausible, f.hostile) for name, f in fields.items()}
    anything = st.fixed_dictionaries({}, optional=values)
    # Three nearly valid posts to one of anything: most of anything fails on several fields.
    return st.integers(0, 3).flatmap(lambda n: anything if n == 0 else nearly_valid)


def _png(size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (20, 120, 140)).save(out, format="PNG")
    return out.getvalue()


PNG = _png()
# Without the characters that would break the test client's own multipart header.
file_names = st.one_of(
    st.sampled_from(["pic.png", "..", ".", "a/../../b.png", "x.png.php", "😀.png", "\x00.png"]),
    st.text(CHARS.filter(lambda c: c not in '"\r\n'), max_size=40),
)
picture_bytes = st.one_of(
    st.just(PNG),
    st.just(_png((40, 400))),
    st.binary(max_size=200),
    st.binary(max_size=200).map(lambda junk: PNG[:60] + junk),
    st.just(PNG[:-20]),
    st.just(b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
    st.just(_png((8, 8))),
)


def _posted_file(name, content):
    upload = io.BytesIO(content)
    upload.name = name
    return upload


# Through the test client, with any name: Django's multipart parser sanitises it.
posted_uploads = st.builds(_posted_file, file_names, picture_bytes)


def _as_parsed(name: str) -> str:
    """An upload's name as Django's multipart parser hands it to a form: no folders,
    printable characters only, and never empty, "." or ".."."""
    name = "".join(c for c in name.replace("\\", "/").rsplit("/", 1)[-1] if c.isprintable())
    return name if name not in {"", ".", ".."} else "upload"


# Straight into a form.
uploads = st.builds(SimpleUploadedFile, file_names.map(_as_parsed), picture_bytes)

patient_data = form_data(
    {"first_name": "Sam", "last_name": "Lee", "date_of_birth": "1980-05-17", "email": ""},
    first_name=WORDS,
    last_name=WORDS,
    preferred_name=WORDS,
    date_of_birth=BIRTHDAY,
    email=EMAIL,
    phone=PHONE,
    email_consent=FLAG,
    notes=PROSE,
    confirm_duplicate=FLAG,
)
clinic_data = form_data(
    {
        "name": "Northside Myotherapy",
        "brand_colour": "#0f5e6e",
        "paper_size": "A4",
        "email_subject": "Your program from {clinic}",
        "program_link_days": 90,
        "reminder_nudge_days": 4,
        "email_message": "Attached.",
    },
    name=WORDS,
    phone=PHONE,
    email=EMAIL,
    website=URL,
    address=PROSE,
    brand_colour=choice(["#0f5e6e", "#FFFFFF"], "#fff", "0f5e6e", "#0f5e6e\n", "#0f5e6e\x00"),
    paper_size=choice(["A4", "letter"], "a4", "Letter"),
    handout_footer=WORDS,
    reply_to=EMAIL,
    email_subject=Field(st.sampled_from(["Your program from {clinic}", "{patient}", "{"])),
    email_message=PROSE,
)
SIDES = ["none", "left", "right", "each"]
DOSE_COUNTS = ["hold_seconds", "reps", "sets", "times_per_day", "days_per_week"]


def exercise_data(taxonomy):
    def checked(kind):
        return Field(
            st.lists(st.sampled_from(taxonomy[kind]), max_size=2, unique=True),
            st.lists(st.one_of(st.sampled_from(taxonomy[kind]), ids), min_size=1, max_size=3),
        )

    valid = {
        "name": "Wall push-up",
        "summary": "A push-up against a wall.",
        "steps": "Stand at arm's length.\nBend your elbows.",
        "reps": "10",
        "side": "none",
        "position": "standing",
        "difficulty": "easy",
        "image_alt": "A person at a wall",
    }
    return form_data(
        valid,
        name=WORDS,
        summary=WORDS,
        aliases=WORDS,
        indications=WORDS,
        why=PROSE,
        setup=PROSE,
        cues=PROSE,
        cautions=PROSE,
        steps=Field(st.lists(words, min_size=1, max_size=20).map("\n".join), hostile_text),
        **{name: COUNT for name in DOSE_COUNTS},
        side=choice(SIDES, "both", "NONE"),
        position=choice(["standing", "sitting", "lying-back", "kneeling"], "upside-down"),
        difficulty=choice(["easy", "moderate", "hard"], "Easy"),
        regions=checked("regions"),
        categories=checked("categories"),
        equipment=checked("equipment"),
        video_url=URL,
        image_alt=WORDS,
    )


def builder_data(rx) -> dict:
    """The builder's form as the browser posts it, unchanged."""
    items = list(rx.items.order_by("order", "pk"))
    data = {
        "title": rx.title,
        "advice": rx.advice,
        "review_date": "",
        "log_weeks": str(rx.log_weeks),
        "items-TOTAL_FORMS": str(len(items)),
        "items-INITIAL_FORMS": str(len(items)),
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
    }
    for i, item in enumerate(items):
        for name in DOSE_COUNTS:
            value = getattr(item, name)
            data[f"items-{i}-{name}"] = "" if value is None else str(value)
        data[f"items-{i}-side"] = item.side
        data[f"items-{i}-note"] = item.note
        data[f"items-{i}-order"] = str(item.order)
        data[f"items-{i}-id"] = str(item.pk)
    return data


def builder_posts(rx, *, exercise_ids, template_ids):
    """The builder's post with a few fields changed or left out, maybe its form count
    tampered with (fields are there for one form more than the plan has), maybe a
    button pressed."""
    items = list(rx.items.order_by("order", "pk"))
    forms = range(len(items) + 1)
    item_ids = st.one_of(st.sampled_from([str(item.pk) for item in items]), ids)
    fields = form_data(
        builder_data(rx),
        title=WORDS,
        advice=PROSE,
        review_date=Field(st.dates(date(2025, 1, 1), date(2030, 12, 31)).map(str), dates),
        log_weeks=choice(["0", "1", "2"], "3", "-1"),
        large_print=FLAG,
        **{f"items-{i}-{name}": COUNT for i in forms for name in DOSE_COUNTS},
        **{f"items-{i}-side": choice(SIDES, "both") for i in forms},
        **{f"items-{i}-note": WORDS for i in forms},
        **{f"items-{i}-order": Field(st.integers(0, 5).map(str), numbers) for i in forms},
        **{f"items-{i}-id": Field(item_ids, ids) for i in forms},
        **{f"items-{i}-DELETE": FLAG for i in forms},
    )
    counts = st.one_of(st.sampled_from([str(n) for n in range(len(items) + 2)]), numbers)
    tampered = st.fixed_dictionaries(
        {}, optional={"items-TOTAL_FORMS": counts, "items-INITIAL_FORMS": counts}
    )
    exercise = st.one_of(st.sampled_from([str(pk) for pk in exercise_ids]), ids)
    template = st.one_of(st.sampled_from([str(pk) for pk in template_ids]), ids)
    moves = st.one_of(
        st.sampled_from([f"{item.pk}:{way}" for item in items for way in ("up", "down")]),
        hostile_text,
    )
    buttons = {
        "save": st.just({}),
        "add": st.fixed_dictionaries({"add_exercise": exercise}),
        "template": st.fixed_dictionaries({"apply_template": st.just(""), "template": template}),
        "move": st.fixed_dictionaries({"move": moves}),
        "save_template": st.fixed_dictionaries(
            {"save_template": st.just(""), "template_name": mixed(words)}
        ),
        "copy": st.just({"copy_previous": ""}),
        "reorder": st.just({"reorder": ""}),
    }
    # The buttons that send an id or a name are drawn twice as often as the others.
    pressed = st.sampled_from(
        ["save", "add", "add", "template", "template", "move", "save_template", "save_template"]
        + ["copy", "reorder"]
    ).flatmap(buttons.__getitem__)
    return st.builds(
        lambda data, counts, button: {**data, **counts, **button},
        fields,
        st.one_of(st.just({}), tampered),
        pressed,
    )


# Checks -------------------------------------------------------------------------


@contextmanager
def example():
    """One example's writes, undone at its end; the test's own transaction stays."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def assert_clear_errors(form):
    assert form.errors, "An invalid form must say what is wrong."
    for name, messages in form.errors.items():
        assert name == NON_FIELD_ERRORS or name in form.fields, name
        assert messages and all(str(message).strip() for message in messages), (name, messages)


def assert_clear_formset_errors(formset):
    assert not formset.is_valid()
    for form in formset.forms:
        if form.errors:
            assert_clear_errors(form)
    if not any(form.errors for form in formset.forms):
        messages = formset.non_form_errors()
        assert messages and all(str(message).strip() for message in messages)


def assert_stored_cleanly(instance):
    """What is in the database holds no NUL and passes the model's own validation
    (so no number past a column's range slipped through)."""
    stored = type(instance).objects.get(pk=instance.pk)
    for field in stored._meta.concrete_fields:
        value = getattr(stored, field.attname)
        if isinstance(value, str):
            assert "\x00" not in value, field.name
    stored.full_clean()
    return stored


def assert_round_trip(instance, form):
    """The database holds exactly what the form cleaned."""
    stored = assert_stored_cleanly(instance)
    meta = stored._meta
    fields = {field.name: field for field in [*meta.concrete_fields, *meta.many_to_many]}
    for name, value in form.cleaned_data.items():
        field = fields.get(name)
        if field is None or isinstance(field, models.FileField):
            continue
        widget = form.fields[name].widget
        if field.has_default() and widget.value_omitted_from_data(form.data, form.files, name):
            continue  # Django keeps the current value of a field the post left out.
        if field.many_to_many:
            assert set(getattr(stored, name).all()) == set(value), name
        else:
            assert getattr(stored, name) == value, name
    return stored


def rows(queryset) -> list:
    return list(queryset.order_by("pk").values())


def patients() -> list:
    return rows(Patient.objects.all())


def clinics() -> list:
    return rows(Clinic.objects.all())


def clinic_exercises() -> list:
    return [rows(model.objects.all()) for model in (Exercise, ExerciseStep, ExerciseImage)]


def saved(response, state, before) -> bool:
    """A posted form is answered by a redirect (saved: True) or by the form again with
    clear errors and nothing changed (False); never by anything else."""
    assert response.status_code in (200, 302)
    event(f"status {response.status_code}")
    if response.status_code == 302:
        return True
    assert_clear_errors(response.context["form"])
    assert state() == before
    return False


# Fixtures -----------------------------------------------------------------------


@pytest.fixture
def taxonomy(db):
    """Two of each kind, by kind: the ids a browser's checkboxes would send."""
    return {
        kind: [str(model.objects.create(slug=slug, name=slug.title()).pk) for slug in slugs]
        for kind, model, slugs in [
            ("regions", Region, ["knees", "hips-glutes"]),
            ("categories", Category, ["stretch", "strengthen"]),
            ("equipment", Equipment, ["chair", "wall"]),
        ]
    }


@pytest.fixture
def own_exercise(clinic):
    return ExerciseFactory(name="Towel calf stretch", slug="towel-calf-stretch", clinic=clinic)


@pytest.fixture
def plan(patient, alice, clinic):
    """A draft of two exercises, an earlier prescription to copy, and a clinic template."""
    library = [ExerciseFactory(name=f"Library exercise {n}") for n in range(3)]
    earlier = PrescriptionFactory(patient=patient, therapist=alice)
    ItemFactory(prescription=earlier, exercise=library[2])
    rx = PrescriptionFactory(patient=patient, therapist=alice, title="Hips and back")
    for order, exercise in enumerate(library[:2]):
        ItemFactory(prescription=rx, exercise=exercise, order=order, note="Gently")
    template = ProgramTemplate.objects.create(clinic=clinic, name="Knees", slug="knees")
    TemplateItem.objects.create(template=template, exercise=library[1], reps=10)
    return rx, [e.pk for e in library], [template.pk]


# Form level ---------------------------------------------------------------------


@PROFILE
@given(data=patient_data, edit=st.booleans())
def test_patient_form_never_crashes_and_stores_what_it_cleaned(data, edit, clinic, alice, patient):
    with example():
        instance = Patient.objects.get(pk=patient.pk) if edit else None
        form = PatientForm(data, instance=instance, clinic=clinic)
        event(f"valid: {form.is_valid()}")
        if not form.is_valid():
            assert_clear_errors(form)
            return
        if edit:
            saved = patient_update(patient=instance, actor=Actor(alice), form=form)
        else:
            saved = patient_create(clinic=clinic, actor=Actor(alice), form=form)
        assert_round_trip(saved, form)


@PROFILE
@given(data=clinic_data, logo=st.none() | uploads)
def test_clinic_form_never_crashes_and_stores_what_it_cleaned(data, logo, clinic, clinic_admin):
    with example():
        files = {"logo": logo} if logo else {}
        form = ClinicForm(data, files, instance=Clinic.objects.get(pk=clinic.pk))
        event(f"valid: {form.is_valid()}")
        if not form.is_valid():
            assert_clear_errors(form)
            return
        assert_round_trip(
            clinic_update(clinic=form.instance, actor=Actor(clinic_admin), form=form), form
        )


@PROFILE
@given(draw=st.data(), image=st.none() | uploads, edit=st.booleans())
def test_exercise_form_never_crashes_and_stores_what_it_cleaned(
    draw, image, edit, clinic, alice, taxonomy, own_exercise
):
    data = draw.draw(exercise_data(taxonomy), label="data")
    with example():
        instance = Exercise.objects.get(pk=own_exercise.pk) if edit else None
        files = {"image": image} if image else {}
        form = ExerciseForm(data, files, instance=instance)
        event(f"valid: {form.is_valid()}")
        if not form.is_valid():
            assert_clear_errors(form)
            return
        saved = assert_round_trip(clinic_exercise_save(form=form, clinic=clinic, by=alice), form)
        steps = list(saved.steps.order_by("order").values_list("text", flat=True))
        assert steps == form.cleaned_data["steps"]
        for image in saved.images.all():
            assert_stored_cleanly(image)


@PROFILE
@given(draw=st.data())
def test_builder_forms_never_crash_and_store_what_they_cleaned(draw, plan):
    rx, exercise_ids, template_ids = plan
    data = draw.draw(
        builder_posts(rx, exercise_ids=exercise_ids, template_ids=template_ids), label="data"
    )
    with example():
        fresh = Prescription.objects.get(pk=rx.pk)
        form = PrescriptionForm(data, instance=fresh)
        formset = ItemFormSet(data, instance=fresh, queryset=fresh.items.all())
        form_ok, formset_ok = form.is_valid(), formset.is_valid()
        if not form_ok:
            assert_clear_errors(form)
        if not formset_ok:
            assert_clear_formset_errors(formset)
        event(f"valid: {form_ok and formset_ok}")
        if not (form_ok and formset_ok):
            return
        before = set(fresh.items.values_list("pk", flat=True))
        deleted = {item_form.instance.pk for item_form in formset.deleted_forms}
        assert_round_trip(
            prescription_save(
                prescription=fresh, form=form, formset=formset, actor=Actor(fresh.therapist)
            ),
            form,
        )
        after = set(fresh.items.values_list("pk", flat=True))
        assert after == before - deleted, "only the plan's own items are kept or deleted"
        claimed = Counter(item_form.instance.pk for item_form in formset.forms)
        for item_form in formset.forms:
            if item_form.instance.pk in after:
                stored = assert_stored_cleanly(item_form.instance)
                if claimed[stored.pk] > 1:
                    continue  # A tampered post names an item twice: the last form wins.
                for name in [*DOSE_COUNTS, "side", "note"]:
                    assert getattr(stored, name) == item_form.cleaned_data[name], name


@PROFILE
@given(
    data=form_data(
        {"request_key": "6f1f3cbe-8a59-4b5e-9a47-3c3e1d1b2a10"},
        extra_recipient=EMAIL,
        message=PROSE,
        request_key=Field(st.uuids().map(str)),
    )
)
def test_email_handout_form_never_crashes(data):
    form = EmailHandoutForm(data)
    event(f"valid: {form.is_valid()}")
    if form.is_valid():
        assert "\x00" not in form.cleaned_data["message"]
        assert len(form.cleaned_data["message"]) <= 1000
    else:
        assert_clear_errors(form)


# HTTP level: never a 500 ---------------------------------------------------------


@PROFILE
@given(data=patient_data)
def test_adding_a_patient_answers_bad_input_with_form_errors(data, alice, patient):
    with example():
        before = patients()
        response = logged_in(alice).post(reverse("patients:create"), data)
        if saved(response, patients, before):
            assert_stored_cleanly(Patient.objects.exclude(pk=patient.pk).get())


@PROFILE
@given(data=patient_data)
def test_editing_a_patient_answers_bad_input_with_form_errors(data, alice, patient):
    with example():
        before = patients()
        response = logged_in(alice).post(reverse("patients:edit", args=[patient.pk]), data)
        if saved(response, patients, before):
            assert_stored_cleanly(patient)


@PROFILE
@given(data=clinic_data, logo=st.none() | posted_uploads)
def test_clinic_settings_answer_bad_input_with_form_errors(data, logo, clinic_admin, clinic):
    with example():
        before = clinics()
        post = {**data, "logo": logo} if logo else data
        response = logged_in(clinic_admin).post(reverse("clinic_settings"), post)
        if saved(response, clinics, before):
            assert_stored_cleanly(clinic)


@PROFILE
@given(draw=st.data(), image=st.none() | posted_uploads)
def test_adding_a_clinic_exercise_answers_bad_input_with_form_errors(draw, image, alice, taxonomy):
    data = draw.draw(exercise_data(taxonomy), label="data")
    with example():
        before = clinic_exercises()
        post = {**data, "image": image} if image else data
        response = logged_in(alice).post(reverse("exercises:create"), post)
        if saved(response, clinic_exercises, before):
            exercise = assert_stored_cleanly(Exercise.objects.get())
            for related in [*exercise.steps.all(), *exercise.images.all()]:
                assert_stored_cleanly(related)


def _plan_state(rx):
    return (
        rows(Prescription.objects.filter(pk=rx.pk)),
        rows(PrescriptionItem.objects.filter(prescription=rx)),
        rows(ProgramTemplate.objects.all()),
    )


@PROFILE
@given(draw=st.data(), htmx=st.booleans())
def test_builder_answers_bad_input_without_a_500(draw, htmx, alice, plan):
    rx, exercise_ids, template_ids = plan
    data = draw.draw(
        builder_posts(rx, exercise_ids=exercise_ids, template_ids=template_ids), label="data"
    )
    headers = {"HX-Request": "true"} if htmx else {}
    with example():
        before = _plan_state(rx)
        response = logged_in(alice).post(
            reverse("prescriptions:edit", args=[rx.pk]), data, headers=headers
        )
        # An id that is no exercise or template of the clinic's is a 404, as everywhere.
        refers = "add_exercise" in data or "apply_template" in data
        assert response.status_code in ((200, 302, 404) if refers else (200, 302))
        event(f"status {response.status_code}")
        context = response.context
        form = context["form"] if context is not None and "form" in context else None
        if form is not None and form.is_bound:
            if form.errors:
                assert_clear_errors(form)
            else:
                assert_clear_formset_errors(context["formset"])
            assert _plan_state(rx) == before
            return
        assert_stored_cleanly(rx)
        for item in PrescriptionItem.objects.filter(prescription=rx):
            assert_stored_cleanly(item)
        for template in ProgramTemplate.objects.all():
            assert_stored_cleanly(template)


# Regressions: what the properties above found -------------------------------------


@pytest.mark.parametrize(
    "button",
    [
        {"add_exercise": "abc"},
        {"add_exercise": "0.0"},
        {"apply_template": "", "template": "abc"},
        {"apply_template": "", "template": "１"},
    ],
)
def test_builder_button_with_a_malformed_id_is_a_404_not_a_500(alice_client, plan, button):
    rx, _, _ = plan
    url = reverse("prescriptions:edit", args=[rx.pk])
    response = alice_client.post(url, {**builder_data(rx), **button})
    assert response.status_code == 404


def test_template_name_with_a_nul_is_refused_with_a_message(alice_client, plan):
    rx, _, _ = plan
    url = reverse("prescriptions:edit", args=[rx.pk])
    data = {**builder_data(rx), "save_template": "", "template_name": "Knees\x00"}
    response = alice_client.post(url, data, follow=True)
    assert "Null characters are not allowed." in response.content.decode()
    assert ProgramTemplate.objects.count() == 1  # only the plan fixture's own


@pytest.mark.parametrize(
    "tampered",
    [
        # One form more than the plan has, filled in: an item without an exercise.
        {
            "items-TOTAL_FORMS": "3",
            "items-2-reps": "5",
            "items-2-side": "none",
            "items-2-order": "2",
        },
        # No initial forms: every item posted as a new one.
        {"items-INITIAL_FORMS": "0"},
    ],
)
def test_a_tampered_form_count_adds_no_item(alice_client, plan, tampered):
    rx, _, _ = plan
    before = _plan_state(rx)[1]
    url = reverse("prescriptions:edit", args=[rx.pk])
    response = alice_client.post(url, {**builder_data(rx), **tampered})
    assert response.status_code == 302
    assert _plan_state(rx)[1] == before


def test_a_taxonomy_id_past_64_bits_is_a_form_error(alice_client, taxonomy):
    data = {
        "name": "Wall push-up",
        "summary": "A push-up against a wall.",
        "steps": "Stand at arm's length.",
        "reps": "10",
        "side": "none",
        "position": "standing",
        "difficulty": "easy",
        "regions": [taxonomy["regions"][0], str(2**63)],
    }
    response = alice_client.post(reverse("exercises:create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["regions"] == [f"“{2**63}” is not a valid value."]
    assert not Exercise.objects.exists()


# Searches: read through forms, so any query string or post is a page, never a 500 ----


@PROFILE
@given(q=mixed(words), page=numbers, archived=flags)
def test_patient_search_answers_any_input_with_a_page(q, page, archived, alice, patient):
    with example():
        response = logged_in(alice).post(
            reverse("patients:list"), {"q": q, "page": page, "archived": archived}
        )
        assert response.status_code == 200


@PROFILE
@given(
    params=st.fixed_dictionaries(
        {},
        optional={
            "q": mixed(words),
            "region": mixed(st.sampled_from(["hip", "knee"])),
            "category": hostile_text,
            "equipment": hostile_text,
            "position": hostile_text,
            "page": numbers,
        },
    ),
    builder=st.booleans(),
)
def test_library_search_answers_any_input_with_a_page(params, builder, alice, plan):
    with example():
        client = logged_in(alice)
        if builder:  # The builder's live search asks for the results only.
            url = reverse("prescriptions:edit", args=[plan[0].pk])
            response = client.get(
                url, params, headers={"HX-Request": "true", "HX-Target": "library-results"}
            )
        else:
            response = client.get(reverse("exercises:list"), params)
        assert response.status_code == 200
