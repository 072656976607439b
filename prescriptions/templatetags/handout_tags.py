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


@register.filter
@lru_cache(maxsize=256)
def qr_data_uri(url: str) -> str:
    """A QR code for a link, as an SVG data URI (vector: sharp at any print size)."""
    return segno.make(url, error="m").svg_data_uri(scale=4, border=2)


@register.filter
def printable_link(url: str) -> str:
    """A link as a person would type it: no scheme, no www."""
    for prefix in ("https://", "http://"):
        url = url.removeprefix(prefix)
    return url.removeprefix("www.").rstrip("/")


@register.filter
def boxes(times_per_day) -> range:
    """How many tick boxes a day's cell needs: one per session, at most three."""
    return range(min(max(int(times_per_day or 1), 1), 3))


@register.filter
def slice_weeks(days: list) -> list[list]:
    """The log's days, a week to a table."""
    return [days[i : i + 7] for i in range(0, len(days), 7)]
