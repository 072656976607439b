"""Filters of the printed, blank questionnaire (``templates/handouts/questionnaire.html``)."""

from django import template

register = template.Library()


@register.filter
def scale(item: dict) -> range:
    return range(item["min"], item["max"] + 1)


@register.filter
def get_list(mapping: dict, key: str) -> list:
    return mapping.get(key) or []


@register.filter
def activity_rows(item: dict, activities: dict) -> list[str]:
    """The activities named before, then empty rows up to the question's limit."""
    names = list((activities.get(item["id"]) or [])[: item["max_activities"]])
    return names + [""] * (item["max_activities"] - len(names))
