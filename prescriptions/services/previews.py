"""Draft handouts drawn on request: cached by content, limited per user and process.

The cache key is the hash of what the handout prints (the draft's snapshot) and of the
handout templates and stylesheet, so the same plan previewed again, or drawn ahead by
``prescriptions.preview_tasks`` after an autosave, is not drawn twice, and a changed
template or stylesheet draws afresh. Previews live in their own cache alias
(``previews``, bounded by ``OPENHEP_PREVIEW_CACHE_ENTRIES``), so they never push the
limits and counters of the default cache out.
"""

import hashlib
import json
import threading
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.cache import cache as default_cache
from django.core.cache import caches

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
def process_slot():
    """One of the ``OPENHEP_PREVIEWS_PER_PROCESS`` drawing slots of this process, or
    ``RenderBusy`` at once: a render waiting behind twenty others helps nobody."""
    if not _slots().acquire(blocking=False):
        raise RenderBusy("Several previews are being drawn right now.")
    try:
        yield
    finally:
        _slots().release()


@contextmanager
def _render_slot(user):
    """One preview at a time per user (across processes when the cache is shared, e.g.
    Redis), and a slot of this process. Never queues: a clear "busy" helps more."""
    mine = f"openhep:preview-busy:{user.pk}"
    if not default_cache.add(mine, 1, timeout=PREVIEW_RENDER_SECONDS):
        raise RenderBusy("Your previous preview is still being drawn.")
    try:
        with process_slot():
            yield
    finally:
        default_cache.delete(mine)


# Longer than any render; a crashed worker's claim expires after this.
PREVIEW_RENDER_SECONDS = 120
# The handout's look: every file under these folders (templates and the stylesheet).
HANDOUT_TEMPLATES = settings.BASE_DIR / "templates" / "handouts"
HANDOUT_STATIC = settings.BASE_DIR / "static" / "handouts"


# The code that turns a snapshot into the handout's HTML and PDF: a deploy that changes
# only it must not serve previews drawn by the old code from a shared cache either.
HANDOUT_CODE = [
    settings.BASE_DIR / "prescriptions" / name
    for name in ("handouts.py", "handout_images.py", "templatetags/handout_tags.py")
]


def version_sources() -> list[Path]:
    """The files a draft preview is drawn with besides its snapshot."""
    return sorted(
        [
            path
            for folder in (HANDOUT_TEMPLATES, HANDOUT_STATIC)
            for path in folder.rglob("*")
            if path.is_file()
        ]
        + [path for path in HANDOUT_CODE if path.is_file()]
    )


@cache
def handout_version() -> str:
    """A hash of the handout templates, stylesheet and drawing code, read once per process (a deploy
    that changes them restarts the processes): a cached preview drawn with the old
    ones is never served after a change."""
    digest = hashlib.sha256()
    for path in version_sources():
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def preview_cache():
    return caches["previews"]


def preview_key(snapshot: dict) -> str:
    """The cache key of a draft's preview: its content and the handout's version."""
    content = json.dumps(snapshot, sort_keys=True, default=str).encode()
    return f"openhep:preview:{handout_version()}:{hashlib.sha256(content).hexdigest()}"


def draft_preview_key(prescription_id: int) -> tuple[dict, str]:
    """The draft's snapshot as it is now, and its preview's cache key."""
    snapshot = handout_snapshot(prescription_for_handout(prescription_id))
    return snapshot, preview_key(snapshot)


def _draw(snapshot: dict) -> bytes:
    return handouts.render_pdf(snapshot, draft=True, program_url=links.sample_page_url())


def preview_store(key: str, pdf: bytes) -> bool:
    """Keep a drawn preview, unless it is larger than ``OPENHEP_PREVIEW_CACHE_MAX_BYTES``
    (a few huge programs must not push every other preview out)."""
    if len(pdf) > settings.OPENHEP_PREVIEW_CACHE_MAX_BYTES:
        return False
    preview_cache().set(key, pdf, timeout=settings.OPENHEP_PREVIEW_CACHE_SECONDS)
    return True


def handout_preview(*, prescription: Prescription, user) -> bytes:
    """The draft's handout for the preview button: rendered once per content (the same
    plan previewed again, or drawn ahead after an autosave, comes from the cache) and
    within the render limits above. Raises ``RenderBusy`` when over them."""
    snapshot, key = draft_preview_key(prescription.pk)
    pdf = preview_cache().get(key)
    if pdf is None:
        with _render_slot(user):
            pdf = _draw(snapshot)
        preview_store(key, pdf)
    return pdf


def preview_prerender(*, prescription_id: int, key: str) -> str:
    """Draw a draft's preview into the cache ahead of the click (the autosave's task).

    Does nothing for a snapshot that is no longer the draft's (a later save queued its
    own task: only the newest is drawn), for a prescription no longer a draft (issued
    ones are drawn by ``render_handout``, never here), for one already cached, or when
    this process's slots are all taken (the click draws it then). Returns what it did.
    """
    rx = Prescription.objects.filter(pk=prescription_id).only("status").first()
    if rx is None or not rx.is_draft:
        return "not a draft"
    snapshot, current = draft_preview_key(prescription_id)
    if current != key:
        return "stale"
    if preview_cache().get(key) is not None:
        return "cached"
    try:
        with process_slot():
            pdf = _draw(snapshot)
    except RenderBusy:
        return "busy"
    return "drawn" if preview_store(key, pdf) else "too large"
