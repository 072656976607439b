"""Session state set at sign-in (whichever login page was used: the app's or the admin's)."""

import time

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django_otp import user_has_device

from clinic.middleware import HAS_DEVICE, LAST_SEEN, SIGNED_IN_AT


@receiver(user_logged_in, dispatch_uid="openhep_session_start")
def session_start(sender, request, user, **kwargs):
    now = int(time.time())
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN] = now
    request.session[HAS_DEVICE] = user_has_device(user, confirmed=True)
