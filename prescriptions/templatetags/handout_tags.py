import datetime

from django import template
from django.utils.dateformat import format as date_format

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
