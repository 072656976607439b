"""The card with the page's code: printed again after "New link", when the stored
handout still shows the old one."""

from django.urls import reverse

from clinic.audit import Actor
from clinic.models import AuditEntry
from prescriptions import links
from prescriptions.services.links import program_link_renew, program_link_turn_off
from tests.helpers import pdf_text
from tests.prescriptions.test_handout_layout import decoded_qr_codes


def test_the_card_prints_the_new_code_after_a_new_link(alice_client, alice, issued, link):
    new, token = program_link_renew(link=link, actor=Actor(alice))
    response = alice_client.get(reverse("loop:link_card", args=[issued.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert decoded_qr_codes(response.content, page_link=True) == [links.page_url(token)]
    text = pdf_text(response.content)
    assert "For Jordan" in text and "Ellis" not in text
    assert "replaces the one on your handout" in text and "Page 1" not in text
    assert links.page_url(token).split("//")[1].split("/")[0] in text
    entry = AuditEntry.objects.get(detail="Page code card")
    assert entry.action == AuditEntry.Action.PRINT and entry.target == f"program link {new.pk}"


def test_the_panel_offers_the_card(alice_client, issued, link):
    page = alice_client.get(issued.get_absolute_url()).content.decode()
    assert reverse("loop:link_card", args=[issued.pk]) in page
    # The handout's own code: nothing to replace.
    card = alice_client.get(reverse("loop:link_card", args=[issued.pk])).content
    assert "replaces" not in pdf_text(card)


def test_no_card_for_a_page_that_is_off(alice_client, alice, issued, link):
    program_link_turn_off(link=link, actor=Actor(alice))
    assert alice_client.get(reverse("loop:link_card", args=[issued.pk])).status_code == 404
    page = alice_client.get(issued.get_absolute_url()).content.decode()
    assert reverse("loop:link_card", args=[issued.pk]) not in page
