from django import template

from clinic.storage import public_storage

register = template.Library()


@register.filter
def public_url(name: str | None) -> str:
    """The address of a public file (a library picture, a logo) named in a snapshot."""
    return public_storage().url(name) if name else ""
