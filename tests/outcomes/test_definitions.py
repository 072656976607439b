"""The definition format: the bundled measures pass, bad files are refused whole with
each problem named by its item or spreadsheet row, and an import writes nothing when
anything is wrong."""

import json

import pytest
from django.core.exceptions import ValidationError

from clinic.audit import Actor
from clinic.models import AuditEntry
from outcomes import definitions
from outcomes.models import Questionnaire
from outcomes.services import (
    bundled_definitions,
    questionnaire_import,
    questionnaire_set_active,
    questionnaires_load,
)

NECK_CSV = """slug,neck-questionnaire
title,Neck questionnaire (licensed)
short_title,Neck
version,2
licence,Used under the clinic's licence no. 1234
scoring,percent
min_answered,3
higher_is_better,no
mic,10

id,text,type,min,max,min_label,max_label,options,required
pain,How bad is your neck pain?,choice,,,,,0=None|1=Mild|2=Moderate|3=Severe,yes
reading,Reading,choice,,,,,0=No trouble|1=Some trouble|2=Cannot read,
driving,Driving,choice,,,,,0=No trouble|1=Some trouble|2=Cannot drive,
comment,Anything else?,text,,,,,,
"""


def test_bundled_measures_are_valid_and_loading_twice_changes_nothing(db):
    assert [d["slug"] for d in bundled_definitions()] == [
        "global-change",
        "pain-rating",
        "patient-specific-function",
    ]
    assert questionnaires_load() == 3
    assert questionnaires_load() == 0
    assert Questionnaire.objects.filter(clinic=None, is_active=True).count() == 3
    for questionnaire in Questionnaire.objects.all():
        assert questionnaire.licence.startswith("Written for OpenHEP and free to use")
        assert questionnaire.citation


def test_a_spreadsheet_imports_with_its_settings(clinic, clinic_admin):
    questionnaire = questionnaire_import(
        clinic=clinic, name="neck.csv", content=NECK_CSV.encode(), actor=Actor(clinic_admin)
    )
    assert questionnaire.source == "imported" and questionnaire.clinic == clinic
    assert questionnaire.licence == "Used under the clinic's licence no. 1234"
    definition = questionnaire.definition
    assert [i["id"] for i in definition["items"]] == ["pain", "reading", "driving", "comment"]
    assert definition["items"][0]["options"][3] == {"value": 3, "label": "Severe"}
    assert definition["scoring"]["items"] == ["pain", "reading", "driving"]
    assert definition["scoring"]["range"] == [0, 100]
    entry = AuditEntry.objects.get(target=f"questionnaire {questionnaire.pk}")
    assert entry.detail == "Questionnaire imported"


def test_a_bad_spreadsheet_names_every_row_and_imports_nothing(clinic, clinic_admin):
    bad = NECK_CSV.replace("reading,Reading,choice", "reading,Reading,choise").replace(
        "0=No trouble|1=Some trouble|2=Cannot drive", "0=No trouble|x=Some"
    )
    bad += "Pain,Twice,integer,0,10,,,,\n"
    with pytest.raises(definitions.DefinitionError) as caught:
        questionnaire_import(
            clinic=clinic, name="neck.csv", content=bad.encode(), actor=Actor(clinic_admin)
        )
    assert caught.value.problems == [
        "Row 13 (\"reading\"): the type 'choise' is not one of integer, choice, activities, text.",
        'Row 14 ("driving"), option 2: an option is a whole number (-1000 to 1000) and a label.',
        "Row 16: the id 'Pain' is not usable: lower-case letters, digits, - and _, "
        "starting with a letter, at most 40 characters.",
    ]
    assert not Questionnaire.objects.filter(clinic=clinic).exists()
    assert not AuditEntry.objects.filter(detail="Questionnaire imported").exists()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\xff\xfe", "The file is not UTF-8 text (save it as CSV UTF-8)."),
        (b"title,Neck\n", "No header row id,text,type,... was found, so there are no items."),
        (b"colour,blue\n", "Row 1: 'colour' is not a setting;"),
    ],
)
def test_unreadable_spreadsheets_say_why(content, problem):
    with pytest.raises(definitions.DefinitionError) as caught:
        definitions.read_csv(content)
    assert caught.value.problems[0].startswith(problem)


def test_json_definitions_are_checked_whole():
    with pytest.raises(definitions.DefinitionError) as caught:
        definitions.read_json(
            json.dumps(
                {
                    "format": "openhep-questionnaire/1",
                    "title": "Back",
                    "version": "1",
                    "items": [
                        {"id": "a", "text": "A", "type": "integer", "min": 5, "max": 1},
                        {"id": "a", "text": "", "type": "text"},
                    ],
                    "scoring": {"method": "median", "higher_is_better": True},
                }
            ).encode()
        )
    assert caught.value.problems == [
        'item 1 ("a"): min and max are whole numbers with min below max.',
        'item 2 ("a"): the question text is missing or longer than 500.',
        'items: the id "a" is used twice.',
        "scoring: the method 'median' is not one of value, sum, mean, percent.",
    ]
    with pytest.raises(definitions.DefinitionError, match="not JSON"):
        definitions.read_json(b"{not json")
    with pytest.raises(definitions.DefinitionError, match="Upload a .json"):
        definitions.read_file("neck.xlsx", b"")


def test_an_import_needs_a_licence_note_and_a_new_version(clinic, clinic_admin):
    no_licence = NECK_CSV.replace("licence,Used under the clinic's licence no. 1234\n", "")
    with pytest.raises(definitions.DefinitionError, match="licence"):
        questionnaire_import(
            clinic=clinic, name="n.csv", content=no_licence.encode(), actor=Actor(clinic_admin)
        )
    questionnaire_import(
        clinic=clinic, name="n.csv", content=NECK_CSV.encode(), actor=Actor(clinic_admin)
    )
    with pytest.raises(definitions.DefinitionError, match="give the file a new version"):
        questionnaire_import(
            clinic=clinic, name="n.csv", content=NECK_CSV.encode(), actor=Actor(clinic_admin)
        )


def test_the_exported_definition_imports_again(clinic, clinic_admin, measures):
    original = measures["pain-rating"].definition
    copy = dict(original, licence="Our copy", version="1-clinic")
    questionnaire = questionnaire_import(
        clinic=clinic,
        name="pain.json",
        content=json.dumps(copy).encode(),
        actor=Actor(clinic_admin),
    )
    assert questionnaire.definition["items"] == original["items"]
    assert questionnaire.definition["scoring"] == original["scoring"]


def test_retiring_is_for_imported_questionnaires(clinic, clinic_admin, measures):
    with pytest.raises(ValidationError):
        questionnaire_set_active(
            questionnaire=measures["pain-rating"], active=False, actor=Actor(clinic_admin)
        )
    imported = questionnaire_import(
        clinic=clinic, name="n.csv", content=NECK_CSV.encode(), actor=Actor(clinic_admin)
    )
    questionnaire_set_active(questionnaire=imported, active=False, actor=Actor(clinic_admin))
    imported.refresh_from_db()
    assert imported.is_active is False


def test_definitions_that_would_break_later_are_refused_when_read():
    base = {
        "title": "Back",
        "version": "1",
        "items": [{"id": "a", "text": "A", "type": "choice", "options": "0=No|999999=Yes"}],
        "scoring": {"method": "value", "higher_is_better": True},
    }
    with pytest.raises(definitions.DefinitionError, match="option 2: an option is a whole"):
        definitions.validate(base)
    wide = dict(base, items=[{"id": "a", "text": "A", "type": "integer", "min": 0, "max": 500}])
    with pytest.raises(definitions.DefinitionError, match="a scale spans at most 100"):
        definitions.validate(wide)
    heavy = [
        {"id": f"q{n}", "text": "Q", "type": "choice", "options": "0=No|1000=Yes"}
        for n in range(100)
    ]
    too_big = dict(base, items=heavy, scoring={"method": "sum", "higher_is_better": False})
    with pytest.raises(definitions.DefinitionError, match="scores could reach 100000"):
        definitions.validate(too_big)
    fits = dict(too_big, items=heavy[:99])
    assert definitions.validate(fits)["scoring"]["range"] == [0, 99000]


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"short_title": "x" * 41}, "short_title: at most 40 characters."),
        ({"citation": "x" * 2001}, "citation: text of at most 2,000 characters."),
        (
            {"scoring": {"method": "mean", "items": [["a"]], "higher_is_better": True}},
            "scoring: items lists the ids of the scored items, as text.",
        ),
    ],
)
def test_odd_json_gets_a_named_problem_not_a_crash(changes, problem):
    data = {
        "title": "Back",
        "version": "1",
        "items": [{"id": "a", "text": "A", "type": "integer"}],
        "scoring": {"method": "mean", "higher_is_better": True},
        # A key the format does not have is ignored, whatever it holds.
        "_rows": ["a", "b"],
    } | changes
    with pytest.raises(definitions.DefinitionError) as caught:
        definitions.read_json(json.dumps(data).encode())
    assert problem in caught.value.problems


def test_a_spreadsheet_row_too_long_to_read_is_named():
    content = NECK_CSV + 'note,"' + "x" * 200_000 + '"\n'
    with pytest.raises(definitions.DefinitionError, match="Row 1[0-9]: this row cannot be read"):
        definitions.read_csv(content.encode())
