"""Where files live: public media apart from private files.

Two storages, both chosen by the environment (``MEDIA_STORAGE``: a local folder
or an S3-compatible bucket; see openhep/settings.py):

- ``public``: the exercise library's pictures and clinic logos. Anyone may
  fetch them (a handout's picture, the library page); they are cacheable and a
  proxy or a bucket serves them directly.
- ``default``: everything private (issued handouts above all). Never served
  directly: only the clinic-scoped, audited views hand them out, by streaming,
  ``X-Accel-Redirect`` to the proxy, or a signed URL that lasts a minute.

A model field names the public storage with ``storage=public_storage``. The
field keeps this callable (migrations name it), and the storage it returns is
looked up on use, so tests that change ``STORAGES`` reach it too.
"""

import re
import secrets
from typing import Any, cast
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.core.signals import setting_changed
from django.db.models.fields.files import FieldFile
from django.dispatch import receiver
from django.http import (
    FileResponse,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.utils.functional import LazyObject, empty
from django.utils.http import content_disposition_header

PUBLIC = "public"


class _PublicStorage(LazyObject):
    def _setup(self):
        self._wrapped = storages[PUBLIC]


_public = _PublicStorage()


def public_storage():
    """The storage of public media (for ``FileField(storage=public_storage)``)."""
    return _public


def alias_of(storage) -> str:
    """The STORAGES alias a field's storage is: "public" or "default" (private)."""
    return PUBLIC if storage is _public else "default"


@receiver(setting_changed)
def _storages_changed(*, setting, **kwargs):
    if setting == "STORAGES":
        _public._wrapped = empty


def private_name(extension: str) -> str:
    """A file name no one can guess: 128 random bits, URL-safe (22 characters)."""
    return f"{secrets.token_urlsafe(16)}{extension}"


# A signed address for a private file on a bucket works for this many seconds.
SIGNED_URL_SECONDS = 60


def private_file_response(file: FieldFile, *, filename: str, content_type: str) -> HttpResponseBase:
    """A private file for a view that has checked who may have it (and audited it).

    From a local folder: streamed by the app, or, with ``MEDIA_ACCEL_REDIRECT`` set,
    by the proxy (``X-Accel-Redirect`` to its internal location). From a bucket: a
    redirect to a signed address that lasts a minute. Raises ``FileNotFoundError``
    when the file is not in its storage.
    """
    storage, name = file.storage, file.name or ""
    disposition = content_disposition_header(as_attachment=False, filename=filename) or ""
    if isinstance(storage, FileSystemStorage):
        if accel := settings.OPENHEP_MEDIA_ACCEL_REDIRECT:
            if not storage.exists(name):
                raise FileNotFoundError(name)
            response = HttpResponse(content_type=content_type)
            response["X-Accel-Redirect"] = f"{accel.rstrip('/')}/{quote(name)}"
            response["Content-Disposition"] = disposition
            return response
        return FileResponse(
            file.open("rb"), content_type=content_type, filename=filename, as_attachment=False
        )
    if not storage.exists(name):
        raise FileNotFoundError(name)
    # A bucket's storage (django-storages) takes response headers and a lifetime.
    url = cast(Any, storage).url(
        name,
        parameters={
            "ResponseContentDisposition": disposition,
            "ResponseContentType": content_type,
        },
        expire=SIGNED_URL_SECONDS,
    )
    return HttpResponseRedirect(url)


# One "bytes=first-last" range (or "first-", or "-suffix"): what a browser's video
# player asks for. Several ranges in one request are answered with the whole file.
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CHUNK = 64 * 1024


def private_media_response(
    request, file: FieldFile, *, filename: str, content_type: str
) -> HttpResponseBase:
    """``private_file_response`` for a file a browser plays (a video): streamed from a
    local folder by the app, it answers range requests too (``206 Partial Content``),
    which players use to seek and Safari needs to play at all. The proxy
    (``X-Accel-Redirect``) and a bucket's signed address answer ranges themselves."""
    storage, name = file.storage, file.name or ""
    if not isinstance(storage, FileSystemStorage) or settings.OPENHEP_MEDIA_ACCEL_REDIRECT:
        return private_file_response(file, filename=filename, content_type=content_type)
    size = storage.size(name)
    asked = _RANGE.match(request.headers.get("Range", "").replace(" ", ""))
    span = _span(asked, size) if asked else None
    if asked and span is None:
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        return refused
    if span is None:
        response = private_file_response(file, filename=filename, content_type=content_type)
        response["Accept-Ranges"] = "bytes"
        return response
    first, last = span
    handle = storage.open(name, "rb")
    handle.seek(first)

    def chunks(left: int = last - first + 1):
        with handle:
            while left > 0:
                data = handle.read(min(_CHUNK, left))
                if not data:
                    return
                left -= len(data)
                yield data

    partial = StreamingHttpResponse(chunks(), status=206, content_type=content_type)
    partial["Content-Range"] = f"bytes {first}-{last}/{size}"
    partial["Content-Length"] = str(last - first + 1)
    partial["Accept-Ranges"] = "bytes"
    partial["Content-Disposition"] = (
        content_disposition_header(as_attachment=False, filename=filename) or ""
    )
    return partial


def _span(asked: re.Match, size: int) -> tuple[int, int] | None:
    """The first and last byte of a range within ``size`` bytes, or ``None``."""
    first, last = asked.group(1), asked.group(2)
    if not first and not last or not size:
        return None
    if not first:  # The last n bytes.
        return max(0, size - int(last)), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    return (start, end) if start <= end and start < size else None
