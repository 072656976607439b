"""Handout PDFs: an HTML template rendered by WeasyPrint.

The renderer fetches only our own files. Templates and the stylesheet name
them with two private schemes, ``static:<path>`` (found by Django's staticfiles
finders) and ``media:<name>`` (read through the default storage, so S3 works);
a ``file:`` URL is served only when its real path lies under a static or media
root. Everything else (http, https, ftp, other files, redirects) is refused
and logged, and rendering goes on without it.
"""

import gc
import logging
import mimetypes
import os
import ssl
import time
from functools import cache
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.dispatch import Signal
from django.template.loader import render_to_string
from weasyprint import CSS, HTML, URLFetcher
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcherResponse

from clinic.storage import public_storage
from prescriptions.handout_images import RenderImages, shared_images

logger = logging.getLogger(__name__)

# Sent after each handout is drawn, with ``draft`` and ``seconds`` (openhep's metrics).
handout_rendered = Signal()

STYLESHEET = "static:handouts/handout.css"
DATA_IMAGE_PREFIXES = (
    "data:image/png",
    "data:image/jpeg",
    "data:image/webp",
    "data:image/gif",
    "data:image/svg+xml",
)


class RefusedResource(ValueError):
    """A URL the handout renderer will not fetch."""


def allowed_roots() -> list[str]:
    roots = [settings.STATIC_ROOT, settings.MEDIA_ROOT]
    for entry in settings.STATICFILES_DIRS:
        roots.append(entry[1] if isinstance(entry, tuple) else entry)
    return [os.path.realpath(root) for root in roots]


def is_within(path: str, roots: list[str]) -> bool:
    real = os.path.realpath(path)
    return any(os.path.commonpath([real, root]) == root for root in roots)


class HandoutURLFetcher(URLFetcher):
    """Serves static and media files from disk or storage; refuses everything else."""

    def __init__(self):
        # Only data: URLs ever reach urllib (through super().fetch, for _data).
        super().__init__(
            timeout=2,
            allow_redirects=False,
            allowed_protocols=("data",),
            ssl_context=unused_ssl_context(),
        )

    def fetch(self, url, headers=None):
        scheme, _, rest = url.partition(":")
        scheme = scheme.lower()
        try:
            if scheme == "static":
                return self._static(url, unquote(rest))
            if scheme == "media":
                return self._media(url, unquote(rest))
            if scheme == "file":
                return self._file(url)
            if scheme == "data" and url.lower().startswith(DATA_IMAGE_PREFIXES):
                return self._data(url)
            raise RefusedResource("only static and media files may be fetched")
        except RefusedResource as refusal:
            logger.warning("Handout renderer refused %s: %s", url[:200], refusal)
            raise

    def _respond(self, url, body: bytes, name: str):
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body, {"Content-Type": content_type})

    def _read_file(self, url, path: str):
        if not is_within(path, allowed_roots()) or not os.path.isfile(path):
            raise RefusedResource("not a file under the static or media roots")
        with open(path, "rb") as handle:
            return self._respond(url, handle.read(), path)

    def _static(self, url, name: str):
        try:
            path = finders.find(name.lstrip("/"))
        except SuspiciousFileOperation as error:
            raise RefusedResource("path leaves the static folders") from error
        if not path:
            raise RefusedResource("no such static file")
        # Finders also search installed apps' static folders; those are ours too.
        with open(os.path.realpath(path), "rb") as handle:
            return self._respond(url, handle.read(), path)

    def _media(self, url, name: str):
        name = name.lstrip("/")
        if not name or ".." in name.split("/"):
            raise RefusedResource("bad media name")
        try:
            # Handouts print public media only: library pictures and the clinic's logo.
            with public_storage().open(name, "rb") as handle:
                return self._respond(url, handle.read(), name)
        except (OSError, SuspiciousFileOperation) as error:
            raise RefusedResource("no such media file") from error

    def _file(self, url):
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise RefusedResource("remote file URL")
        return self._read_file(url, url2pathname(parts.path))

    def _data(self, url):
        return super().fetch(url)

    # URLFetcher.__init__ installs urllib handlers (http, ftp, redirects…).
    # fetch() above never reaches them; open() is closed off too.
    def open(self, url, data=None, timeout=None):
        raise RefusedResource("direct open is not allowed")


@cache
def unused_ssl_context() -> ssl.SSLContext:
    """WeasyPrint's fetcher builds an SSL context (loading every CA certificate, ~30 ms)
    unless given one; ours never fetches https, so one bare context serves every render."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


@cache
def font_config() -> FontConfiguration:
    return FontConfiguration()


@cache
def stylesheet() -> CSS:
    """The print stylesheet and its fonts, parsed once per process."""
    return CSS(url=STYLESHEET, url_fetcher=HandoutURLFetcher(), font_config=font_config())


WARM_UP_SNAPSHOT = {
    "title": "Warm-up",
    "advice": "Warm-up.",
    "issued_on": "2026-01-01",
    "log_days": ["2026-01-01"],
    "patient": {"name": "Warm-up"},
    "therapist": {"name": "Warm-up", "first_name": "Warm-up", "title": ""},
    "clinic": {"name": "OpenHEP", "footer": "Warm-up.", "paper_size": "A4"},
    "items": [
        {
            "name": "Warm-up",
            "dose": "Hold 30 seconds · 3 repetitions",
            "side": "Both sides, one after the other",
            "dose_fields": {"times_per_day": 1},
            "setup": "Warm-up.",
            "steps": ["Warm-up."],
            "cues": ["Warm-up."],
            "cautions": ["Warm-up."],
            "note": "Warm-up.",
            "video_link": "https://example.org/warm-up",
            "image": None,
        }
    ],
}


def warm_up() -> None:
    """Prepare everything a first handout would otherwise pay for: called when a web worker
    starts (``clinic/wsgi.py``), so the first patient's handout is as quick as any other.

    One real handout (the template, its QR code, the stylesheet, the fonts and the text
    engine's lazy set-up), then the objects made so far are moved out of the garbage
    collector's way: without that, the first request's full collection walks them all.
    """
    pdf_from_html(render_html(WARM_UP_SNAPSHOT, draft=True))  # Not a patient's: not counted.
    gc.collect()
    gc.freeze()


# A picture's shape, its width over its height: under 0.9 an upright figure, then a
# squarish one, a wide one, and from 2.8 a figure lying down.
SHAPES = ((0.9, "tall"), (1.6, "square"), (2.8, "wide"))
# A card with fewer words than this (``card_words``) prints its picture a size larger
# (handout.css, ``.roomy``). Past it the text runs on under a larger picture anyway, so
# the picture would only add height: the library's longest cards (about 800 to 980) get
# the smaller size, short ones such as the pelvic tilt or the clamshell (about 700) the
# larger one.
ROOMY_BELOW = 780
# The part of a line a step leaves empty after its last word, on average, in characters.
LINE_END = 45


def card_words(item: dict) -> int:
    """About how many characters of text a card prints, counting a step's unfilled line
    end and half of "Remember" and "Take care" (they sit side by side)."""
    reminders = " ".join([*item.get("cues", []), *item.get("cautions", [])])
    return (
        len(item.get("setup", ""))
        + sum(len(step) + LINE_END for step in item.get("steps", []))
        + len(item.get("note", ""))
        + len(reminders) // 2
    )


def figure_class(item: dict, *, large_print: bool = False) -> str:
    """The picture's classes on its card: its shape, and ``roomy`` for a card of few words."""
    aspect = (item.get("image") or {}).get("aspect")
    if not aspect:
        return "shape-unknown"
    shape = next((name for below, name in SHAPES if aspect < below), "long")
    roomy = not large_print and card_words(item) < ROOMY_BELOW
    return f"shape-{shape} roomy" if roomy else f"shape-{shape}"


def render_html(
    snapshot: dict, *, draft: bool, mark: str = "DRAFT – not yet issued", program_url: str = ""
) -> str:
    """``program_url`` is the patient's page (``prescriptions.links``): printed as a QR code
    on the first page, and kept out of the snapshot, which is stored."""
    large_print = bool(snapshot.get("large_print"))
    cards = [
        {"item": item, "figure": figure_class(item, large_print=large_print)}
        for item in snapshot.get("items", [])
    ]
    return render_to_string(
        "handouts/prescription.html",
        {"h": snapshot, "cards": cards, "draft": draft, "mark": mark, "program_url": program_url},
    )


def pdf_from_html(html: str) -> bytes:
    """A tagged PDF (PDF/UA-1) from handout HTML, with our fetcher, fonts and stylesheet.

    Public raster pictures (the logo, our static images) come decoded from the process's
    image cache (``prescriptions.handout_images``); everything else is this render's."""
    fetcher = HandoutURLFetcher()
    images = RenderImages(shared_images, fetcher)
    document = HTML(string=html, url_fetcher=fetcher).render(
        stylesheets=[stylesheet()], font_config=font_config(), cache=images
    )
    # No embedded files in a handout, whatever the HTML asks for.
    document.metadata.attachments = []
    pdf = document.write_pdf(pdf_variant="pdf/ua-1", custom_metadata=False)
    # Only after a render that went through: a failed one may leave an image half drawn.
    images.give_back()
    return pdf


def render_pdf(
    snapshot: dict, *, draft: bool, mark: str = "DRAFT – not yet issued", program_url: str = ""
) -> bytes:
    """The handout PDF for a snapshot (see ``prescriptions.selectors.handout_snapshot``)."""
    started = time.perf_counter()
    pdf = pdf_from_html(render_html(snapshot, draft=draft, mark=mark, program_url=program_url))
    handout_rendered.send(render_pdf, draft=draft, seconds=time.perf_counter() - started)
    return pdf
