"""Drawing a draft's preview ahead of the "Preview handout" click.

Each autosave of the builder queues ``prerender_preview`` with the cache key of the
draft as saved; the worker draws that preview into the previews cache, so a therapist
who paused for the length of a render finds it drawn. Saves in quick succession queue
one task each, but only the newest snapshot is drawn: an older task finds the draft
changed since and does nothing.
"""

from django.conf import settings
from django.db import transaction
from django.tasks import task, task_backends
from django.tasks.backends.immediate import ImmediateBackend

from prescriptions.services.previews import draft_preview_key, preview_prerender


@task
def prerender_preview(prescription_id: int, key: str) -> str:
    return preview_prerender(prescription_id=prescription_id, key=key)


def prerender_wanted() -> bool:
    """Only with a real background worker: the immediate backend (``make run``) would
    draw inside the autosave request, which must stay quick (the click draws then)."""
    return settings.OPENHEP_PREVIEW_PRERENDER and not isinstance(
        task_backends["default"], ImmediateBackend
    )


def prerender_after_save(prescription_id: int) -> bool:
    """Queue the drawing of the draft's preview as just saved, once the save commits."""
    if not prerender_wanted():
        return False
    _, key = draft_preview_key(prescription_id)
    transaction.on_commit(lambda: prerender_preview.enqueue(prescription_id, key))
    return True
