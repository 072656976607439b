"""Session state set at sign-in (whichever login page was used: the app's or the admin's)."""

import time

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from clinic.middleware import LAST_SEEN, SIGNED_IN_AT, has_device


@receiver(user_logged_in, dispatch_uid="openhep_session_start")
def session_start(sender, request, user, **kwargs):
    now = int(time.time())
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN] = now
    has_device(request, user=user, fresh=True)
