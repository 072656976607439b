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

import secrets
from typing import Any, cast
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.core.signals import setting_changed
from django.db.models.fields.files import FieldFile
from django.dispatch import receiver
from django.http import FileResponse, HttpResponse, HttpResponseBase, HttpResponseRedirect
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
