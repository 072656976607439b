"""How many pages a handout takes: cards packed two or three to a page, the log after them.

Realistic programs, not a best case: the library's longest exercises (with their own
drawings), a therapist's note on every third, a video on every fourth, a full clinic
header, advice and the one-week tick-box log. Each handout is rendered once. The measured
figures are in docs/handouts.md; a change that makes a handout longer fails here.
"""

import pytest

from clinic.models import Clinic
from exercises.illustrations import load_poses
from exercises.models import Exercise
from exercises.services import illustrations_load, library_load, read_library_file
from prescriptions import handouts, links
from prescriptions.models import PrescriptionItem
from prescriptions.selectors import handout_snapshot, prescription_for_handout
from tests.factories import PrescriptionFactory
from tests.helpers import pdf_reader
from tests.prescriptions.test_handout_layout import decoded_qr_codes

pytestmark = pytest.mark.xdist_group("handout-pages")

# The library's 20 longest exercises (setup, steps, cues and cautions), longest first.
LONGEST = [
    "psoas-stretch-standing",
    "sleeper-stretch",
    "dead-bug",
    "doorway-pec-stretch",
    "tendon-glides",
    "single-leg-clock-reach",
    "wall-angel",
    "kneeling-hip-flexor-stretch",
    "thoracic-extension-foam-roller",
    "quadriceps-stretch-standing",
    "levator-scapulae-stretch",
    "constructive-rest",
    "band-row",
    "upper-trap-stretch",
    "band-external-rotation",
    "thread-the-needle",
    "hamstring-stretch-lying",
    "open-book",
    "figure-4-stretch",
    "childs-pose",
]
NOTE = "Keep it gentle this week; we will progress it at your next visit."

# Pages at most, with the log. The goals: 5 exercises and the log on 2 pages, 10 on 4,
# on A4 and on US Letter, even with these, the library's longest texts. Cards are 66-82 mm
# tall here, so a page ends where the next card no longer fits: a few lines more in one
# exercise can move a card and add a page.
CAPS = {
    "A4": {1: 1, 3: 2, 5: 2, 8: 3, 10: 4, 20: 7},
    "letter": {1: 1, 3: 2, 5: 2, 8: 4, 10: 4, 20: 8},
}


def program_of(settings, alice, patient, slugs, *, note_at, video_at) -> dict:
    """The snapshot of a program of ``slugs`` with the clinic's full header, advice and a
    one-week log; a note on the items ``note_at(order)`` says, a video on ``video_at``'s."""
    settings.SITE_URL = "https://hep.northside.example"
    library_load(entries=read_library_file(settings.OPENHEP_LIBRARY_DIR / "exercises.json"))
    poses = load_poses()
    illustrations_load(poses={slug: poses[slug] for slug in slugs})
    Clinic.objects.filter(pk=patient.clinic_id).update(
        website="https://northside-myotherapy.example",
        address="12 High Street, Northcote VIC 3070",
        handout_footer="Stop any exercise that causes sharp or increasing pain, and call us.",
    )
    rx = PrescriptionFactory(
        patient=patient,
        therapist=alice,
        title="Your home exercise program",
        advice="Warm up with a short walk first. Move slowly and keep breathing.",
        log_weeks=1,
    )
    exercises = Exercise.objects.in_bulk(slugs, field_name="slug")
    for order, slug in enumerate(slugs):
        exercise = exercises[slug]
        if video_at(order):
            exercise.video_url = f"https://videos.clinic.example/watch?v={slug}"
            exercise.save()
        PrescriptionItem.objects.create(
            prescription=rx,
            exercise=exercise,
            order=order,
            note=NOTE if note_at(order) else "",
            **exercise.dose.as_dict(),
        )
    return handout_snapshot(prescription_for_handout(rx.pk))


@pytest.fixture
def program(db, settings, alice, patient):
    """A 20-exercise program of the longest exercises; handouts print its first n."""
    return program_of(
        settings,
        alice,
        patient,
        LONGEST,
        note_at=lambda order: order % 3 == 1,
        video_at=lambda order: order % 4 == 2,
    )


def handout(snapshot, n, *, paper="A4", large_print=False):
    shown = {
        **snapshot,
        "items": snapshot["items"][:n],
        "large_print": large_print,
        "clinic": {**snapshot["clinic"], "paper_size": paper},
    }
    # As issued: with the patient page's code on the first page.
    page = links.page_url("k7q2mxa4tn3hc5wd6rjb2fve4u")
    return shown, handouts.render_pdf(shown, draft=False, program_url=page)


def page_texts(pdf: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in pdf_reader(pdf).pages]


@pytest.mark.parametrize("paper", ["A4", "letter"])
def test_cards_pack_two_or_three_to_a_page_and_the_log_follows_them(program, paper):
    counts, log_beside_last_card = {}, {}
    for n in CAPS[paper]:
        shown, pdf = handout(program, n, paper=paper)
        pages = page_texts(pdf)
        counts[n] = len(pages)
        for number, item in enumerate(shown["items"], start=1):
            # A card is never split: its name and its last step are on the same page.
            holding = [text for text in pages if f"{number} {item['name']}" in text]
            assert holding and " ".join(item["steps"][-1].split()) in holding[0], (n, number)
        # The log's table never splits: its heading, first and last rows on the last page.
        log = pages[-1].partition("Your exercise log")[2]
        assert (
            f"1 {shown['items'][0]['name']}" in log and f"{n} {shown['items'][-1]['name']}" in log
        )
        last_step = " ".join(shown["items"][-1]["steps"][-1].split())
        log_beside_last_card[n] = last_step in pages[-1]
    assert all(counts[n] <= cap for n, cap in CAPS[paper].items()), counts
    # The log is not sent to a page of its own when it fits under the last card.
    assert counts[1] == 1
    assert log_beside_last_card[1] and log_beside_last_card[5]


def test_qr_codes_on_a_packed_page_still_decode(program):
    _shown, pdf = handout(program, 10)
    videos = [f"https://hep.northside.example/v/{slug}" for slug in LONGEST[:10][2::4]]
    assert sorted(decoded_qr_codes(pdf)) == sorted(videos)


@pytest.mark.parametrize("paper", ["A4", "letter"])
def test_large_print_keeps_one_exercise_to_a_page(program, paper):
    shown, pdf = handout(program, 10, paper=paper, large_print=True)
    pages = page_texts(pdf)
    assert len(pages) == 11  # ten exercises and the log
    names = [f"{n} {item['name']}" for n, item in enumerate(shown["items"], start=1)]
    for number, (text, name) in enumerate(zip(pages, names, strict=False), start=1):
        assert name in text
        assert [other for other in names if other in text] == [name], number
        last_step = " ".join(shown["items"][number - 1]["steps"][-1].split())
        assert last_step in text, number
    assert pages[-1].startswith("Your exercise log")


@pytest.mark.parametrize("paper", ["A4", "letter"])
@pytest.mark.parametrize(
    ("name", "goal"), [("3-exercises", 2), ("5-exercises", 2), ("10-exercises", 4)]
)
def test_ordinary_programs_meet_the_page_goals(db, settings, alice, patient, name, goal, paper):
    """The goals of the layout (5 exercises and the log on 2 pages, 10 on 4), for the
    programs of the docs' examples: a note on the second exercise, a video on the third."""
    from prescriptions.management.commands.handout_examples import EXAMPLES

    slugs = EXAMPLES[name]
    snapshot = program_of(
        settings,
        alice,
        patient,
        slugs,
        note_at=lambda order: order == 1,
        video_at=lambda order: order == 2,
    )
    _shown, pdf = handout(snapshot, len(slugs), paper=paper)
    pages = page_texts(pdf)
    assert len(pages) <= goal
    assert "Your exercise log" in pages[-1]
