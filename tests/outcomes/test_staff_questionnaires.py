"""The clinic's questionnaires page: reading and downloading them, and the admins'
import (errors named, nothing half-saved) and retire."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clinic.models import AuditEntry
from outcomes.models import Questionnaire
from tests.outcomes.staff import import_pain_copy, pain_definition

LIST = "outcomes:questionnaires"
IMPORT = "outcomes:questionnaire_import"


def upload(name: str, content: bytes | str, kind="application/json"):
    if isinstance(content, str):
        content = content.encode()
    return SimpleUploadedFile(name, content, content_type=kind)


def test_staff_see_the_bundled_and_their_clinics_questionnaires(
    client, alice, measures, clinic, other_clinic, charlie
):
    import_pain_copy(clinic, alice)
    import_pain_copy(other_clinic, charlie, title="Southbank secret scale")
    client.force_login(alice)
    page = client.get(reverse(LIST)).content.decode()
    for title in ("Pain rating", "Activities you find hard", "How things have changed"):
        assert title in page
    assert "Clinic pain scale" in page and "Used under the clinic&#x27;s licence." in page
    assert "Southbank secret scale" not in page
    assert "Download as FHIR Questionnaire (JSON)" in page
    # A therapist reads; only admins import or retire.
    assert "Import a questionnaire" not in page and "Retire" not in page


def test_admins_see_the_import_form_and_the_csv_layout(clinic_admin_client, measures):
    page = clinic_admin_client.get(reverse(LIST)).content.decode()
    assert "Import a questionnaire" in page
    assert "id,text,type,min,max,min_label,max_label,options,required" in page


def test_downloads_give_our_format_and_fhir(alice_client, measures):
    pain = measures["pain-rating"]
    ours = alice_client.get(reverse("outcomes:questionnaire_definition", args=[pain.pk]))
    assert ours["Content-Disposition"] == 'attachment; filename="pain-rating-1.json"'
    assert json.loads(ours.content) == pain.definition
    fhir = alice_client.get(reverse("outcomes:questionnaire_fhir", args=[pain.pk]))
    resource = json.loads(fhir.content)
    assert resource["resourceType"] == "Questionnaire" and resource["status"] == "active"
    assert [item["linkId"] for item in resource["item"]] == ["now", "average", "worst"]


def test_another_clinics_imported_questionnaire_is_a_404(client, charlie, clinic, alice):
    ours = import_pain_copy(clinic, alice)
    client.force_login(charlie)
    for name in ("outcomes:questionnaire_definition", "outcomes:questionnaire_fhir"):
        assert client.get(reverse(name, args=[ours.pk])).status_code == 404


def test_an_admin_imports_a_json_definition(clinic_admin_client, clinic, clinic_admin):
    content = json.dumps(pain_definition())
    response = clinic_admin_client.post(
        reverse(IMPORT), {"file": upload("neck.json", content)}, follow=True
    )
    assert "“Clinic pain scale” (version 1) imported" in response.content.decode()
    questionnaire = Questionnaire.objects.get(clinic=clinic)
    assert questionnaire.imported_by == clinic_admin and questionnaire.source == "imported"
    assert AuditEntry.objects.filter(detail="Questionnaire imported", clinic=clinic).exists()


CSV = """title,Neck questionnaire
version,2
licence,Under the clinic's licence
scoring,sum
higher_is_better,no
mic,3
id,text,type,min,max,min_label,max_label,options,required
pain,How bad is the pain?,integer,0,10,None,Worst,,yes
sleep,How is your sleep?,choice,,,,,0=Fine|1=Broken|2=Very poor,
"""


def test_an_admin_imports_a_spreadsheet(clinic_admin_client, clinic):
    response = clinic_admin_client.post(reverse(IMPORT), {"file": upload("neck.csv", CSV)})
    assert response.status_code == 302
    questionnaire = Questionnaire.objects.get(clinic=clinic)
    assert questionnaire.title == "Neck questionnaire" and questionnaire.version == "2"
    assert [i["id"] for i in questionnaire.definition["items"]] == ["pain", "sleep"]


def test_a_bad_file_lists_each_problem_by_row_and_imports_nothing(clinic_admin_client, clinic):
    bad = CSV.replace("pain,How bad", "Pain!,How bad").replace(",choice,", ",slider,")
    response = clinic_admin_client.post(reverse(IMPORT), {"file": upload("neck.csv", bad)})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was imported" in page
    assert "Row 8: the id &#x27;Pain!&#x27; is not usable" in page
    assert "Row 9 (&quot;sleep&quot;): the type &#x27;slider&#x27;" in page
    assert not Questionnaire.objects.filter(clinic=clinic).exists()


def test_a_definition_without_a_licence_note_is_refused(clinic_admin_client, clinic):
    content = json.dumps(pain_definition(licence=""))
    response = clinic_admin_client.post(reverse(IMPORT), {"file": upload("x.json", content)})
    assert "say under which licence" in response.content.decode()
    assert not Questionnaire.objects.filter(clinic=clinic).exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("big.json", b"{" + b" " * (256 * 1024) + b"}", "larger than 256 KB"),
        ("form.pdf", b"%PDF-1.7", "Upload a .json definition or a .csv spreadsheet."),
        ("broken.json", b"{not json", "The file is not JSON that can be read"),
    ],
)
def test_wrong_files_get_a_clear_message(clinic_admin_client, clinic, name, content, message):
    response = clinic_admin_client.post(reverse(IMPORT), {"file": upload(name, content)})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Questionnaire.objects.filter(clinic=clinic).exists()


def test_the_same_version_twice_is_refused(clinic_admin_client, clinic, clinic_admin):
    import_pain_copy(clinic, clinic_admin)
    content = json.dumps(pain_definition())
    response = clinic_admin_client.post(reverse(IMPORT), {"file": upload("x.json", content)})
    assert "give the file a new version" in response.content.decode()
    assert Questionnaire.objects.filter(clinic=clinic).count() == 1


def test_therapists_cannot_import_or_retire(alice_client, clinic, alice):
    ours = import_pain_copy(clinic, alice)
    content = json.dumps(pain_definition(version="2"))
    assert (
        alice_client.post(reverse(IMPORT), {"file": upload("x.json", content)}).status_code == 403
    )
    retire = reverse("outcomes:questionnaire_active", args=[ours.pk])
    assert alice_client.post(retire, {"active": "0"}).status_code == 403
    assert Questionnaire.objects.filter(clinic=clinic).count() == 1
    assert Questionnaire.objects.get(pk=ours.pk).is_active


def test_an_admin_retires_and_brings_back_an_imported_one(clinic_admin_client, clinic, alice):
    ours = import_pain_copy(clinic, alice)
    url = reverse("outcomes:questionnaire_active", args=[ours.pk])
    page = clinic_admin_client.post(url, {"active": "0"}, follow=True).content.decode()
    assert "retired" in page and "Bring back" in page
    assert not Questionnaire.objects.get(pk=ours.pk).is_active
    clinic_admin_client.post(url, {"active": "1"})
    assert Questionnaire.objects.get(pk=ours.pk).is_active


def test_the_bundled_ones_cannot_be_retired(clinic_admin_client, measures):
    pain = measures["pain-rating"]
    url = reverse("outcomes:questionnaire_active", args=[pain.pk])
    page = clinic_admin_client.post(url, {"active": "0"}, follow=True).content.decode()
    assert "The bundled questionnaires stay" in page
    assert Questionnaire.objects.get(pk=pain.pk).is_active
