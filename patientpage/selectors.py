"""Reads for the patient's page: the link behind a token, and the program it opens."""

from dataclasses import dataclass

from prescriptions import links
from prescriptions.models import PrescriptionItem, ProgramLink


def current_link(prescription) -> ProgramLink | None:
    """The newest link that shows this version (on, or turned off last): the one the
    staff's panel and its buttons act on."""
    return prescription.links.order_by("-created_at", "-pk").first()


def open_link(raw_token: str) -> ProgramLink | None:
    """The open link a token names, or ``None`` for every other case alike (malformed,
    unknown, turned off, replaced, expired, patient archived): the page never tells
    which, so a guess learns nothing."""
    token = links.normalise(raw_token)
    if not links.TOKEN_SHAPE.match(token):
        return None
    link = (
        ProgramLink.objects.select_related("clinic", "patient", "prescription__therapist")
        .filter(token_hash=links.hash_token(token))
        .first()
    )
    if link is None or not links.is_open(link):
        return None
    return link


@dataclass
class PageExercise:
    """One exercise as the page shows it: the card printed on the handout (the stored
    snapshot), and the prescription item its ticks are stored against."""

    item_id: int
    number: int
    card: dict


def page_exercises(link: ProgramLink) -> list[PageExercise]:
    """The issued version's exercises, as printed. Items of an issued version never
    change, so the snapshot's cards and the items line up in order."""
    prescription = link.prescription
    assert prescription is not None  # open_link() returns only issued programs.
    snapshot = prescription.handout.snapshot
    item_ids = list(
        PrescriptionItem.objects.filter(prescription=prescription)
        .order_by("order", "pk")
        .values_list("pk", flat=True)
    )
    return [
        PageExercise(item_id=item_id, number=n, card=card)
        for n, (item_id, card) in enumerate(zip(item_ids, snapshot["items"], strict=False), 1)
    ]


def page_snapshot(link: ProgramLink) -> dict:
    assert link.prescription is not None
    return link.prescription.handout.snapshot
