"""HTML and script typed into any field show as text on every page and in the PDF."""

import pytest
from django.test import Client
from django.urls import reverse

from clinic.audit import Actor
from clinic.models import Membership
from prescriptions import services
from tests.factories import MembershipFactory
from tests.helpers import pdf_text

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def hostile_world(clinic, alice, patient, draft):
    clinic.name = f"Clinic {HOSTILE}"
    clinic.handout_footer = f"Footer {HOSTILE}"
    clinic.save()
    patient.first_name = f"Jo {HOSTILE}"
    patient.notes = f"Notes {HOSTILE}"
    patient.phone = HOSTILE[:40]
    patient.save()
    alice.first_name = f"Alice {HOSTILE}"
    alice.save()
    draft.title = f"Plan {HOSTILE}"[:150]
    draft.advice = f"Advice {HOSTILE}"
    draft.save()
    item = draft.items.first()
    item.note = f"Note {HOSTILE}"
    item.save()
    Membership.objects.filter(user=alice).update(title=f"Title {HOSTILE}"[:100])
    admin = MembershipFactory(clinic=clinic, role=Membership.Role.ADMIN).user
    browser = Client()
    browser.force_login(admin)
    return browser


def test_hostile_text_is_escaped_on_every_page(hostile_world, alice_client, patient, draft):
    pages = {
        "dashboard": alice_client.get(reverse("dashboard")),
        "patients": alice_client.get(reverse("patients:list")),
        "search": alice_client.post(reverse("patients:list"), {"q": "Jo"}),
        "patient": alice_client.get(reverse("patients:detail", args=[patient.pk])),
        "edit": alice_client.get(reverse("patients:edit", args=[patient.pk])),
        "builder": alice_client.get(reverse("prescriptions:edit", args=[draft.pk])),
        "staff": hostile_world.get(reverse("staff")),
        "audit": hostile_world.get(reverse("audit_log")),
        "erase": hostile_world.get(reverse("patients:erase", args=[patient.pk])),
        "account": alice_client.get(reverse("account")),
    }
    services.prescription_issue(prescription=draft, actor=Actor(draft.therapist))
    pages["prescription"] = alice_client.get(reverse("prescriptions:detail", args=[draft.pk]))
    for name, response in pages.items():
        assert response.status_code == 200, name
        html = response.content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html, name
        assert "&lt;script&gt;alert" in html, name


def test_hostile_text_prints_as_text_in_the_handout(hostile_world, alice_client, draft):
    pdf = alice_client.get(reverse("prescriptions:handout", args=[draft.pk])).content
    text = pdf_text(pdf)
    assert '<script>alert("x")</script>' in text  # Printed literally, as typed.
    assert "Advice <script>" in text and "Note <script>" in text
