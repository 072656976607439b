"""Draft handouts drawn on request: cached by content, limited per user and process."""

import hashlib
import json
import threading
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache

from prescriptions import handouts, links
from prescriptions.models import (
    Prescription,
)
from prescriptions.selectors import handout_snapshot, prescription_for_handout


def handout_render_draft(*, prescription: Prescription) -> bytes:
    """The draft's handout, rendered now (no cache, no limit: commands and benches)."""
    fresh = prescription_for_handout(prescription.pk)
    return handouts.render_pdf(
        handout_snapshot(fresh), draft=True, program_url=links.sample_page_url()
    )


class RenderBusy(Exception):
    """Too many previews are being drawn at once; the user should try again shortly."""


_process_slots: threading.BoundedSemaphore | None = None


def _slots() -> threading.BoundedSemaphore:
    global _process_slots
    if _process_slots is None:
        _process_slots = threading.BoundedSemaphore(settings.OPENHEP_PREVIEWS_PER_PROCESS)
    return _process_slots


@contextmanager
def _render_slot(user):
    """One preview at a time per user (across processes when the cache is shared, e.g.
    Redis), and at most ``OPENHEP_PREVIEWS_PER_PROCESS`` per process. Never queues:
    a render waiting behind twenty others helps nobody; a clear "busy" does."""
    mine = f"openhep:preview-busy:{user.pk}"
    if not cache.add(mine, 1, timeout=PREVIEW_RENDER_SECONDS):
        raise RenderBusy("Your previous preview is still being drawn.")
    try:
        if not _slots().acquire(blocking=False):
            raise RenderBusy("Several previews are being drawn right now.")
        try:
            yield
        finally:
            _slots().release()
    finally:
        cache.delete(mine)


PREVIEW_CACHE_SECONDS = 600
# Longer than any render; a crashed worker's claim expires after this.
PREVIEW_RENDER_SECONDS = 120


def handout_preview(*, prescription: Prescription, user) -> bytes:
    """The draft's handout for the preview button: rendered once per content (the same
    plan previewed again comes from the cache) and within the render limits above.
    Raises ``RenderBusy`` when over them."""
    fresh = prescription_for_handout(prescription.pk)
    snapshot = handout_snapshot(fresh)
    content = json.dumps(snapshot, sort_keys=True, default=str).encode()
    key = f"openhep:preview:{hashlib.sha256(content).hexdigest()}"
    pdf = cache.get(key)
    if pdf is None:
        with _render_slot(user):
            pdf = handouts.render_pdf(snapshot, draft=True, program_url=links.sample_page_url())
        cache.set(key, pdf, timeout=PREVIEW_CACHE_SECONDS)
    return pdf
