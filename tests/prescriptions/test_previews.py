"""The draft preview cache: keyed by the snapshot and the handout's version (templates
and stylesheet), bounded, and filled ahead by the autosave's task; and the per-process
limit on drawings."""

import threading

import pytest

from prescriptions import handouts
from prescriptions.preview_tasks import prerender_preview
from prescriptions.services import previews
from tests.helpers import pdf_text


@pytest.fixture
def renders(monkeypatch):
    """The drawings made (each a call of ``handouts.render_pdf``)."""
    render, calls = handouts.render_pdf, []

    def counting(*args, **kwargs):
        calls.append(1)
        return render(*args, **kwargs)

    monkeypatch.setattr(handouts, "render_pdf", counting)
    return calls


@pytest.fixture
def look(tmp_path, monkeypatch):
    """Stand-ins for the handout template and stylesheet, read for the version."""
    template, css = tmp_path / "prescription.html", tmp_path / "handout.css"
    template.write_text("<h1>{{ h.title }}</h1>")
    css.write_text("h1 { color: teal }")
    monkeypatch.setattr(previews, "version_sources", lambda: [template, css])
    previews.handout_version.cache_clear()
    yield template, css
    previews.handout_version.cache_clear()


def preview(rx, user) -> bytes:
    return previews.handout_preview(prescription=rx, user=user)


def test_the_same_plan_is_drawn_once_and_a_change_draws_again(draft, alice, renders):
    first = preview(draft, alice)
    assert preview(draft, alice) == first and len(renders) == 1  # A hit.
    draft.items.filter(order=0).update(reps=8)
    assert "8 repetitions" in pdf_text(preview(draft, alice)) and len(renders) == 2  # A miss.


@pytest.mark.parametrize("changed", ["template", "stylesheet"])
def test_a_changed_template_or_stylesheet_misses(draft, alice, renders, look, changed):
    template, css = look
    key = previews.draft_preview_key(draft.pk)[1]
    preview(draft, alice)
    (template if changed == "template" else css).write_text("/* changed */")
    assert previews.draft_preview_key(draft.pk)[1] == key  # Read once per process…
    previews.handout_version.cache_clear()  # …so a new process (a deploy) reads it again.
    assert previews.draft_preview_key(draft.pk)[1] != key
    preview(draft, alice)
    assert len(renders) == 2


def test_the_version_is_read_from_the_real_handout_files():
    names = {path.name for path in previews.version_sources()}
    assert {"prescription.html", "handout.css", "handouts.py", "handout_tags.py"} <= names


def test_the_cache_holds_a_bounded_number_of_previews(settings):
    cache = previews.preview_cache()
    bound = settings.OPENHEP_PREVIEW_CACHE_ENTRIES
    assert cache._max_entries == bound
    for n in range(bound + 20):
        previews.preview_store(f"openhep:preview:test:{n}", b"%PDF-" + bytes(100))
    assert sum(cache.has_key(f"openhep:preview:test:{n}") for n in range(bound + 20)) <= bound


def test_a_preview_over_the_byte_limit_is_not_kept(draft, alice, renders, settings):
    settings.OPENHEP_PREVIEW_CACHE_MAX_BYTES = 1000  # Smaller than any handout.
    assert preview(draft, alice) == preview(draft, alice)
    assert len(renders) == 2
    key = previews.draft_preview_key(draft.pk)[1]
    assert previews.preview_cache().get(key) is None


def test_previews_are_kept_apart_from_the_default_cache(draft, alice):
    from django.core.cache import cache

    preview(draft, alice)
    key = previews.draft_preview_key(draft.pk)[1]
    assert previews.preview_cache().get(key) is not None and cache.get(key) is None


@pytest.fixture
def busy_process(monkeypatch):
    """Every drawing slot of this process taken by other requests."""
    slots = threading.BoundedSemaphore(1)
    slots.acquire()
    monkeypatch.setattr(previews, "_process_slots", slots)
    yield slots
    slots.release()


def test_a_busy_process_says_so_instead_of_queueing(draft, alice, busy_process, renders):
    with pytest.raises(previews.RenderBusy, match="Several previews"):
        preview(draft, alice)
    assert renders == []


# The task the autosave queues (run here directly: ``.call`` is what the worker runs).


def test_the_task_draws_the_saved_snapshot_into_the_cache(draft, alice, renders):
    key = previews.draft_preview_key(draft.pk)[1]
    assert prerender_preview.call(draft.pk, key) == "drawn"
    assert prerender_preview.call(draft.pk, key) == "cached"
    pdf = preview(draft, alice)  # The click: a hit.
    assert len(renders) == 1 and "Standing psoas stretch" in pdf_text(pdf)


def test_a_task_for_a_stale_snapshot_does_nothing(draft, alice, renders):
    old = previews.draft_preview_key(draft.pk)[1]
    draft.items.filter(order=0).update(reps=9)  # Saved again since: a newer task comes.
    assert prerender_preview.call(draft.pk, old) == "stale"
    assert renders == [] and previews.preview_cache().get(old) is None


def test_an_issued_prescription_is_never_drawn_by_the_preview_task(issued, renders):
    handout = issued.handout
    stored, drawn = handout.pdf.read(), len(renders)
    key = previews.preview_key({"title": issued.title})
    assert prerender_preview.call(issued.pk, key) == "not a draft"
    assert prerender_preview.call(999_999, key) == "not a draft"  # Deleted meanwhile.
    handout.refresh_from_db()
    assert len(renders) == drawn and handout.pdf.read() == stored


def test_the_task_leaves_a_busy_process_alone(draft, busy_process, renders):
    key = previews.draft_preview_key(draft.pk)[1]
    assert prerender_preview.call(draft.pk, key) == "busy"
    assert renders == [] and previews.preview_cache().get(key) is None


def test_a_new_draft_after_the_task_is_queued_is_still_drawn_by_the_click(draft, alice):
    """The task is only ahead of the click, never in its way."""
    key = previews.draft_preview_key(draft.pk)[1]
    draft.items.filter(order=0).update(sets=4)
    prerender_preview.call(draft.pk, key)
    assert "4 sets" in pdf_text(preview(draft, alice))
