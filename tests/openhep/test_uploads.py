"""An oversized upload is refused from its headers, before a byte is read."""

import io
from wsgiref.util import is_hop_by_hop

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse

from openhep.middleware import RequestSizeLimitMiddleware


class Unreadable(io.RawIOBase):
    def read(self, *args):
        raise AssertionError("the body was read")

    readinto = read


def test_a_large_body_is_refused_before_it_is_read(settings):
    request = RequestFactory().post(
        "/clinic/settings/", data=b"", content_type="multipart/form-data; boundary=x"
    )
    request.META["CONTENT_LENGTH"] = str(40 * 1024 * 1024)
    request.META["wsgi.input"] = Unreadable()
    reached = []
    response = RequestSizeLimitMiddleware(lambda r: reached.append(r))(request)
    assert response.status_code == 413
    assert not reached
    # A WSGI server refuses hop-by-hop headers from the app (runserver answered 500).
    assert not any(is_hop_by_hop(name) for name in response.headers)
    assert "That file is too large" in response.content.decode()


def test_a_40_mb_logo_gets_a_clear_page_and_changes_nothing(clinic_admin_client, clinic):
    logo = SimpleUploadedFile("logo.png", b"\x89PNG" + b"0" * (40 * 1024 * 1024), "image/png")
    response = clinic_admin_client.post(
        reverse("clinic_settings"), {"name": "Renamed", "logo": logo}
    )
    assert response.status_code == 413
    assert (
        "up to 6 MB" in response.content.decode()
        and "Nothing was saved" in response.content.decode()
    )
    clinic.refresh_from_db()
    assert clinic.name != "Renamed" and not clinic.logo


def test_a_body_without_length_stops_at_the_limit(settings):
    from django.core.files.uploadhandler import StopFutureHandlers, StopUpload

    from openhep.middleware import LimitedUploadHandler

    settings.OPENHEP_MAX_REQUEST_BYTES = 1024
    handler = LimitedUploadHandler()
    handler.handle_raw_input(None, {}, None, b"x")
    with pytest.raises(StopFutureHandlers):  # It keeps the file; no other handler runs.
        handler.new_file("file", "big.png", "image/png", None)
    handler.receive_data_chunk(b"0" * 1000, 0)
    try:
        handler.receive_data_chunk(b"0" * 1000, 1000)
    except StopUpload as stop:
        assert stop.connection_reset
    else:
        raise AssertionError("the upload was not stopped")
