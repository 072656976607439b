"""One way to make a slug that is free in a table (exercises, templates)."""

from django.db.models import QuerySet
from django.utils.text import slugify


def unique_slug(queryset: QuerySet, text: str, *, fallback: str, max_length: int = 100) -> str:
    """``text`` as a slug not yet used in ``queryset`` (``-2``, ``-3``… appended if taken)."""
    base = slugify(text)[: max_length - 6] or fallback
    slug, n = base, 2
    while queryset.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug
