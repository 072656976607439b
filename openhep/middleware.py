"""Cross-cutting HTTP wiring."""

from django.conf import settings
from django.core.files.uploadhandler import MemoryFileUploadHandler, StopUpload
from django.http import HttpResponse
from django.template.loader import render_to_string
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
    upload to a temporary file before any form could check its size."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.OPENHEP_MAX_REQUEST_BYTES:
            # Rendered without the request: sign-in and sessions have not run yet.
            page = render_to_string(
                "413.html", {"limit_mb": settings.OPENHEP_MAX_REQUEST_BYTES // (1024 * 1024)}
            )
            # The unread body is the server's to discard (gunicorn closes the
            # connection); a WSGI app may not set Connection itself.
            return HttpResponse(page, status=413)
        return self.get_response(request)


class LimitedUploadHandler(MemoryFileUploadHandler):
    """Keeps uploads in memory, and stops one that grows past the request limit
    (a body sent without Content-Length): nothing is written to disk."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.activated = True  # Always in memory: the request is already size-limited.
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.OPENHEP_MAX_REQUEST_BYTES:
            raise StopUpload(connection_reset=True)
        return super().receive_data_chunk(raw_data, start)
