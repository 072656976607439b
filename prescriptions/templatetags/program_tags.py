from django import template

register = template.Library()


@register.inclusion_tag("prescriptions/partials/title.html")
def program_title(rx) -> dict:
    """A program's title with its version ("v2") once it has more than one version."""
    return {"title": rx.title, "version": rx.version_label}
