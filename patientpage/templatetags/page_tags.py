from django import template

from clinic.storage import public_storage

register = template.Library()


@register.filter
def public_url(name: str | None) -> str:
    """The address of a public file (a library picture, a logo) named in a snapshot."""
    return public_storage().url(name) if name else ""


@register.filter
def first_sentence(text: str) -> str:
    """The opening sentence of a longer text (a questionnaire's description, listed)."""
    text = (text or "").strip()
    for end in (". ", "? ", "! "):
        cut = text.find(end)
        if cut != -1:
            text = text[: cut + 1]
    return text


@register.filter
def tel_digits(phone: str | None) -> str:
    """A phone number as a ``tel:`` link needs it: "(03) 9000 1234" -> "0390001234",
    "+61 3 9000 1234" -> "+61390001234" (spaces and brackets are not allowed there)."""
    phone = (phone or "").strip()
    digits = "".join(ch for ch in phone if ch.isdigit())
    return f"+{digits}" if phone.startswith("+") else digits
