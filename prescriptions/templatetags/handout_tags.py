import datetime
from functools import lru_cache

import segno
from django import template
from django.utils.dateformat import format as date_format

from clinic.colours import HEX, darkened

register = template.Library()


@register.filter
def long_date(value: str | None) -> str:
    """An ISO date from a handout snapshot, written for patients: 24 November 2026."""
    if not value:
        return ""
    try:
        return date_format(datetime.date.fromisoformat(value), "j F Y")
    except (TypeError, ValueError):
        return ""


@register.filter
def readable_brand(colour: str | None) -> str:
    """The brand colour for text on white: a colour saved before contrast was checked
    prints in a darker shade of itself (``clinic.colours.darkened``), never too light."""
    return darkened(colour) if colour and HEX.fullmatch(colour) else "#0f5e6e"


@register.filter
def weekday(value: str) -> str:
    """Mon 24 from an ISO date, for the tick-box log's columns."""
    try:
        return date_format(datetime.date.fromisoformat(value), "D j")
    except (TypeError, ValueError):
        return ""


def qr_png(url: str) -> str:
    """A QR code for a link as a PNG data URI of one pixel per module. The stylesheet
    scales it with ``image-rendering: pixelated`` (no smoothing in the PDF), so its
    squares print as sharp as an SVG's, for a fraction of the drawing work."""
    return segno.make(url, error="m").png_data_uri(scale=1, border=2)


@register.filter
@lru_cache(maxsize=256)
def qr_data_uri(url: str) -> str:
    """A video's QR code. Video links are the library's or the clinic's, the same for
    every patient, so the process keeps the latest ones."""
    return qr_png(url)


@register.filter
def private_qr_data_uri(url: str) -> str:
    """The QR code of a patient's program link: a secret, so it is made for each
    handout and kept nowhere (nor in the renderer's image cache: a data: URL)."""
    return qr_png(url)


@register.filter
def screen_qr_data_uri(url: str) -> str:
    """A QR code for a screen (the staff's link panel), as an SVG data URI: a browser
    would smooth a one-pixel-per-module PNG into a blur. A program link: not kept."""
    return segno.make(url, error="m").svg_data_uri(scale=4, border=2)


@register.filter
def printable_link(url: str) -> str:
    """A link as a person would type it: no scheme, no www."""
    for prefix in ("https://", "http://"):
        url = url.removeprefix(prefix)
    return url.removeprefix("www.").rstrip("/")


@register.filter
def tick_boxes(times_per_day) -> int:
    """How many tick boxes a day's cell needs: one per session, at most three."""
    return min(max(int(times_per_day or 1), 1), 3)


@register.filter
def slice_weeks(days: list) -> list[list]:
    """The log's days, a week to a table."""
    return [days[i : i + 7] for i in range(0, len(days), 7)]
