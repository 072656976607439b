"""Cross-cutting HTTP wiring."""

from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import (
    FileUploadHandler,
    MemoryFileUploadHandler,
    StopFutureHandlers,
    StopUpload,
)
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve
from django.utils.cache import patch_cache_control


class NoStoreForStaffMiddleware:
    """Pages shown to a signed-in user carry patient data (names, programs, notes):
    ``Cache-Control: no-store`` keeps them out of the browser's cache on a shared
    clinic computer, and out of any shared cache on the way. Responses that set
    their own caching rules keep them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            patch_cache_control(response, no_store=True, private=True)
        return response


class RequestSizeLimitMiddleware:
    """Refuse a request body larger than ``OPENHEP_MAX_REQUEST_BYTES`` from its
    Content-Length, before a byte is read: Django would otherwise stream a large
    upload to a temporary file before any form could check its size. A clinic's
    video upload has a larger limit of its own (``body_limit``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.OPENHEP_MAX_REQUEST_BYTES and length > body_limit(request):
            # Rendered without the request: sign-in and sessions have not run yet.
            page = render_to_string(
                "413.html",
                {
                    "limit_mb": body_limit(request) // (1024 * 1024),
                    "video_mb": settings.OPENHEP_CLINIC_VIDEO_MAX_BYTES // (1024 * 1024),
                    "video": is_video_upload(request),
                },
            )
            # The unread body is the server's to discard (gunicorn closes the
            # connection); a WSGI app may not set Connection itself.
            return HttpResponse(page, status=413)
        return self.get_response(request)


# The one view whose body may pass MAX_REQUEST_MB: a clinic's video file upload.
VIDEO_UPLOAD_VIEW = "exercises:media_video"


def is_video_upload(request) -> bool:
    """A post to the clinic video upload from a signed-in session: only then may the body
    pass MAX_REQUEST_MB. Asked before sign-in has run (and before the CSRF check reads
    the body), so the session is looked up here, and only for such a route."""
    if request is None:
        return False
    try:
        if resolve(request.path_info).view_name != VIDEO_UPLOAD_VIEW:
            return False
    except Resolver404:
        return False
    return _signed_in(request)


def _signed_in(request) -> bool:
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not key:
        return False
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=key)
    return bool(store.get(SESSION_KEY))


def body_limit(request) -> int:
    """The largest body ``request`` may send: a clinic video's upload may carry the
    video (``CLINIC_VIDEO_MAX_MB``) and a form around it; everything else
    ``MAX_REQUEST_MB``. Worked out only for a body past the usual limit."""
    if is_video_upload(request):
        return settings.OPENHEP_CLINIC_VIDEO_MAX_BYTES + settings.OPENHEP_MAX_REQUEST_BYTES
    return settings.OPENHEP_MAX_REQUEST_BYTES


class LimitedUploadHandler(MemoryFileUploadHandler):
    """Keeps uploads in memory, and stops one that grows past the request limit
    (a body sent without Content-Length): nothing is written to disk.

    A clinic's video upload (``body_limit``) is the exception: up to its own larger
    limit, written to a temporary file as it arrives, never held in memory whole."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.activated = True  # Always in memory: the request is already size-limited.
        self.received = 0
        self.limit = settings.OPENHEP_MAX_REQUEST_BYTES
        self.to_disk = False
        if is_video_upload(self.request):
            self.limit = body_limit(self.request)
            self.to_disk = True

    def new_file(self, *args, **kwargs):
        if not self.to_disk:
            return super().new_file(*args, **kwargs)
        FileUploadHandler.new_file(self, *args, **kwargs)
        self.file = TemporaryUploadedFile(
            self.file_name, self.content_type, 0, self.charset, self.content_type_extra
        )
        raise StopFutureHandlers()

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            raise StopUpload(connection_reset=True)
        if self.to_disk:
            self.file.write(raw_data)
            return None
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size):
        if not self.to_disk:
            return super().file_complete(file_size)
        self.file.seek(0)
        self.file.size = file_size
        return self.file
