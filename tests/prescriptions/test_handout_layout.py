"""What the patient takes home: QR codes, large print, the tick-box log, branding."""

import datetime

import pytest
import zxingcpp
from django.core.files.base import ContentFile
from django.test import override_settings

from clinic.audit import Actor
from prescriptions import handouts, services
from prescriptions.selectors import handout_snapshot, prescription_for_handout
from tests.clinic.test_images import picture
from tests.helpers import pdf_page_images, pdf_reader, pdf_text, printed_pictures


def render(rx, *, draft=True):
    return handouts.render_pdf(handout_snapshot(prescription_for_handout(rx.pk)), draft=draft)


@pytest.fixture
def with_video(exercises):
    psoas = exercises[0]
    psoas.video_url = "https://videos.clinic.example/watch?v=psoas-stretch-01"
    psoas.save()
    return psoas


def decoded_qr_codes(pdf: bytes, *, page_link: bool = False) -> list[str]:
    """The QR codes in a handout: the videos', or with ``page_link`` the patient page's."""
    found = []
    for image in pdf_page_images(pdf):
        found += [code.text for code in zxingcpp.read_barcodes(image)]
    return [code for code in found if ("/p/" in code) == page_link]


def test_video_gets_a_qr_code_and_the_printed_link(draft, with_video):
    pdf = render(draft)
    assert decoded_qr_codes(pdf) == ["https://videos.clinic.example/watch?v=psoas-stretch-01"]
    assert "videos.clinic.example/watch?v=psoas-stretch-01" in pdf_text(pdf)


@override_settings(SITE_URL="https://hep.northside.example")
def test_with_a_site_url_the_qr_and_link_are_short(draft, with_video, client):
    pdf = render(draft)
    assert decoded_qr_codes(pdf) == ["https://hep.northside.example/v/psoas-stretch-standing"]
    assert "hep.northside.example/v/psoas-stretch-standing" in pdf_text(pdf)
    # The short link leads to the video (a host not on VIDEO_HOSTS: a page naming it).
    response = client.get("/v/psoas-stretch-standing")
    assert with_video.video_url in response.content.decode()


def test_no_video_no_qr(draft):
    assert decoded_qr_codes(render(draft)) == []


def test_large_print_puts_one_exercise_on_each_page(draft):
    normal = pdf_reader(render(draft))
    draft.large_print = True
    draft.save()
    large = pdf_reader(render(draft))
    assert len(normal.pages) == 1
    assert len(large.pages) == 3
    for page, name in zip(large.pages, ["psoas", "quadriceps", "Glute bridge"], strict=True):
        assert name in page.extract_text()


def test_tick_box_log_has_a_column_per_day_and_a_row_per_exercise(issued, alice):
    rx = issued
    rx.log_weeks = 2
    rx.save()
    snapshot = handout_snapshot(prescription_for_handout(rx.pk))
    assert len(snapshot["log_days"]) == 14
    html = handouts.render_html(snapshot, draft=False)
    assert html.count('class="log-grid"') == 2
    # Twice a day: two boxes a day; the bridge is once a day. Each day's boxes are one
    # picture; the row's heading says how many, in words for a screen reader.
    assert html.count('class="ticks ticks-2"') == 7 * 2 * 2
    assert html.count('class="ticks ticks-1"') == 7 * 2
    assert html.count(", 2 boxes a day</span>") == 2 * 2
    reader = pdf_reader(handouts.render_pdf(snapshot, draft=False))
    last = " ".join(reader.pages[-1].extract_text().split())
    assert "Your exercise log" in last
    first_day = datetime.date.fromisoformat(snapshot["log_days"][0])
    assert first_day.strftime("%a ") + str(first_day.day) in last


def test_footer_shows_page_count_clinic_text_and_issue_date(issued):
    issued.clinic.handout_footer = "Stop and call us if pain increases."
    issued.clinic.save()
    rx = prescription_for_handout(issued.pk)
    rx.large_print = True
    snapshot = handout_snapshot(
        rx, issued_at=datetime.datetime(2026, 3, 5, 10, tzinfo=datetime.UTC)
    )
    reader = pdf_reader(handouts.render_pdf(snapshot, draft=False))
    for number, page in enumerate(reader.pages, start=1):
        text = " ".join(page.extract_text().split())
        assert f"Page {number} of {len(reader.pages)}" in text
        assert "Stop and call us if pain increases." in text
        assert "Issued 5 March 2026" in text


def test_clinic_logo_is_printed_and_later_branding_changes_do_not_touch_issued(draft, alice):
    clinic = draft.clinic
    clinic.logo.save("logo.png", ContentFile(picture("PNG", size=(300, 100)).read()), save=True)
    handout = services.prescription_issue(prescription=draft, actor=Actor(alice))
    stored = handout.pdf.read()
    assert len(printed_pictures(pdf_reader(stored).pages[0])) == 1
    clinic.logo.delete(save=True)
    clinic.brand_colour = "#aa0000"
    clinic.save()
    draft.refresh_from_db()
    assert draft.handout.pdf.open("rb").read() == stored


def test_pdf_is_tagged_with_language_title_and_author(draft):
    reader = pdf_reader(render(draft))
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en"
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert reader.metadata.title == "Hips and back – Jordan Ellis"
    assert reader.metadata.author == "Northside Myotherapy"


def test_letter_paper_when_the_clinic_prints_on_letter(draft):
    draft.clinic.paper_size = "letter"
    draft.clinic.save()
    box = pdf_reader(render(draft)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)


def test_html_attachments_are_not_embedded():
    html = (
        '<html lang="en"><head><link rel="attachment" href="static:handouts/handout.css"></head>'
        "<body><p>Attachment test</p></body></html>"
    )
    reader = pdf_reader(handouts.pdf_from_html(html))
    assert "Attachment test" in reader.pages[0].extract_text()
    assert "/EmbeddedFiles" not in reader.trailer["/Root"].get("/Names", {})
    assert reader.attachments == {}
