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


def words_for(definition: dict, value) -> str:
    """The words of a score that is one choice's value (a rating of change: "Much
    better"); empty for any other score."""
    rules = definition["scoring"]
    if value is None or rules["method"] != "value":
        return ""
    item = next((i for i in definition["items"] if i["id"] == rules["items"][0]), None)
    if item is None or item["type"] != "choice":
        return ""
    labels = {Decimal(o["value"]): o["label"] for o in item["options"]}
    return labels.get(Decimal(str(value)), "")


@register.filter
def score_words(value, definition: dict) -> str:
    return words_for(definition, value)
