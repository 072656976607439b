"""Views of the installation itself, not of a clinic: public media (probes: openhep.health)."""

import posixpath

from django.conf import settings
from django.http import Http404
from django.views.static import serve


def public_media(request, path: str):
    """Library pictures and clinic logos, which are public. Every other stored file
    (handouts above all) is private and never served here: only the clinic-scoped,
    audited views hand those out. Put the web server in front for speed
    (docs/configuration.md); the same rule applies there."""
    if not is_public_media(path):
        raise Http404("No such file.")
    response = serve(request, path, document_root=str(settings.MEDIA_ROOT))
    response["Cache-Control"] = "public, max-age=86400"
    return response


def is_public_media(path: str) -> bool:
    clean = posixpath.normpath(path)
    if clean != path or clean.startswith(("/", "..")) or "\\" in path or "\x00" in path:
        return False
    return clean.startswith(tuple(settings.OPENHEP_PUBLIC_MEDIA))
