"""Scores as people write them: 3.5, not 3.50 (the column keeps two places for every
measure); ``signed`` adds the + of a gain."""

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def score(value) -> str:
    if value is None or value == "":
        return ""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    text = f"{number.normalize():f}"
    return "0" if text == "-0" else text


@register.filter
def signed(value) -> str:
    text = score(value)
    return f"+{text}" if text and Decimal(text) > 0 else text
