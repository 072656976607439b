"""Reads for the staff's patient list: the search box and what each row shows."""

import datetime
from dataclasses import dataclass
from functools import reduce
from operator import and_

from django.db import connection
from django.db.models import Count, Func, Max, Q, QuerySet, Value
from django.db.models.functions import Replace
from django.utils import timezone

from clinic.models import Patient
from clinic.names import Translate, fold, name_contains
from clinic.selectors import patient_list
from patientpage.loop import last_activity
from prescriptions.models import Prescription

PHONE_MARKS = (" ", "-", "(", ")", "+", ".", "/")
# Typed dates are read day first, as Australian clinics write them.
DATE_FORMATS = (
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%Y-%m-%d",
    "%d/%m/%y",
    "%d.%m.%y",
    "%d-%m-%y",
)


def phone_digits(field: str):
    if connection.vendor == "postgresql":
        return Translate(field, Value("".join(PHONE_MARKS)), Value(""))
    expression: Func | str = field
    for mark in PHONE_MARKS:
        expression = Replace(expression, Value(mark), Value(""))
    return expression


def typed_date(word: str) -> datetime.date | None:
    """A birth date as a clinic types it: 3/4/1980, 03.04.1980, 3-4-80 (day first) or
    1980-04-03. A two-digit year is the latest one not in the future."""
    for format_ in DATE_FORMATS:
        try:
            day = datetime.datetime.strptime(word, format_).date()
        except ValueError:
            continue
        # Only a two-digit year is moved back a century: "03/04/2030" is a typo to show
        # as typed (finding nobody), not 1930.
        if day > timezone.localdate() and format_.endswith("%y"):
            try:
                day = day.replace(year=day.year - 100)
            except ValueError:  # 29 February 2000 - 100 years: no such day
                return None
        return day
    return None


def national_number(digits: str) -> str:
    """An Australian number without its country code or leading zero, so "+61 400…",
    "0061 400…" and "0400…" all search for "400…"."""
    for prefix in ("0061", "61"):
        if digits.startswith(prefix) and len(digits) - len(prefix) >= 9:
            return digits[len(prefix) :]
    return digits.removeprefix("0")


@dataclass(frozen=True)
class PatientQuery:
    words: tuple[str, ...]
    phone: str  # the whole query as a phone number's digits, when it reads as one

    @classmethod
    def read(cls, query: str) -> "PatientQuery":
        squeezed = "".join(query.split())
        digits = "".join(char for char in squeezed if char.isdigit())
        phone_like = squeezed and all(char.isdigit() or char in PHONE_MARKS for char in squeezed)
        if phone_like and len(digits) >= 6 and typed_date(query.strip()) is None:
            return cls(words=(), phone=national_number(digits))
        return cls(words=tuple(query.split()), phone="")


def _word_filter(word: str) -> Q:
    """One typed word: a birth date or year, or part of a name, an email address or a
    phone number."""
    born = typed_date(word)
    if born:
        return Q(date_of_birth=born)
    matches = Q(email__icontains=word)
    if fold(word):
        for field in ("last_name", "first_name", "preferred_name"):
            matches |= name_contains(field, word)
    digits = "".join(char for char in word if char.isdigit())
    if len(digits) >= 3 and len(digits) * 2 >= len(word):
        matches |= Q(search_phone__contains=national_number(digits))
    if word.isdigit() and len(word) == 4 and 1900 <= int(word) <= timezone.localdate().year:
        matches |= Q(date_of_birth__year=int(word))  # a birth year: "ellis 1984"
    return matches


def patient_search(*, user, query: str = "", archived: bool = False) -> QuerySet[Patient]:
    """The clinic's patients (current or archived) that match every typed word, in
    name order, read from the clinic's name index like the list without a search.

    A word matches a name whatever its capitals, apostrophes, hyphens, spaces and
    common accents; a date (day first) matches the birth date; digits match the phone
    number whatever its spacing and whether it starts +61 or 0. A query that is one
    phone number, typed with spaces ("0400 111 222"), is searched as one."""
    patients = patient_list(user=user, archived=archived)
    read = PatientQuery.read(query)
    if not read.words and not read.phone:
        return patients
    patients = patients.alias(search_phone=phone_digits("phone"))
    if read.phone:
        return patients.filter(search_phone__contains=read.phone)
    return patients.filter(reduce(and_, (_word_filter(word) for word in read.words)))


@dataclass(frozen=True)
class Activity:
    at: datetime.datetime
    what: str


def with_list_details(patients) -> list[Patient]:
    """The patients of one page, each with ``prescription_count`` and ``activity``: the
    latest of a program issued, a draft changed and a session the patient logged (page
    or paper), or None. Two grouped queries for the page's rows, whatever its size.
    Each is its own program's time: an old program replaced by a newer version is not
    "changed", and a draft saved after another program's issue is not that issue."""
    rows = list(patients)
    ids = [patient.pk for patient in rows]
    programs: dict[int, dict] = {
        row["pk"]: dict(row)
        for row in Patient.objects.filter(pk__in=ids)
        .annotate(
            count=Count("prescriptions"),
            issued=Max("prescriptions__issued_at"),
            changed=Max(
                "prescriptions__updated_at",
                filter=Q(prescriptions__status=Prescription.Status.DRAFT),
            ),
        )
        .values("pk", "count", "issued", "changed")
    }
    sessions = last_activity(rows)
    for patient in rows:
        program = programs.get(patient.pk, {})
        patient.prescription_count = program.get("count", 0)
        known = []
        if program.get("issued"):
            known.append(Activity(program["issued"], "Program issued"))
        if program.get("changed"):
            known.append(Activity(program["changed"], "Program changed"))
        if patient.pk in sessions:
            known.append(Activity(sessions[patient.pk], "Session logged"))
        patient.activity = max(known, key=lambda activity: activity.at) if known else None
    return rows
