from django.conf import settings

from prescriptions.models import Delivery, Prescription

APP_CSS = (settings.BASE_DIR / "static" / "css" / "app.css").read_text()


def test_every_status_badge_has_a_style():
    # A badge without its own colours is white text on white: invisible.
    for status in Delivery.Status.values:
        assert f".delivery-{status}" in APP_CSS, status
    for status in Prescription.Status.values:
        assert f".status-{status}" in APP_CSS, status
