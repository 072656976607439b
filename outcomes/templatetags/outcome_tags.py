"""Scores as the measure writes them: with the places its definition rounds to (3.5,
7.0), not the two the column keeps for every measure (3.50); ``signed`` adds the + of
a gain."""

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def score(value, definition=None) -> str:
    """A score as it stands (the selectors round them already), or rounded to the
    places of ``definition`` (a stored answer's score)."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if isinstance(definition, dict):
        number = number.quantize(Decimal(1).scaleb(-definition["scoring"]["decimals"]))
    text = f"{number:f}"
    return text[1:] if text.startswith("-") and not number else text


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
