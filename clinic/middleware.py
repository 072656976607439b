"""Session policy and two-factor sign-in, applied to every request."""

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from clinic.access import membership_of
from clinic.two_factor import has_authenticator

LAST_SEEN = "openhep_last_seen"
SIGNED_IN_AT = "openhep_signed_in_at"
HAS_DEVICE = "openhep_two_factor"
HAS_DEVICE_AT = "openhep_two_factor_at"
# Write the session at most once a minute: saving it on every request would
# cost a database write per page for a one-second-precise clock nobody needs.
TOUCH_EVERY = 60


def _leave(request, to: str) -> HttpResponse:
    """Redirect, also for htmx requests (which would otherwise swap the page into a panel)."""
    if request.htmx:
        return HttpResponseClientRedirect(to)
    return redirect(to)


class IdleTimeoutMiddleware:
    """Signs staff out after ``SESSION_IDLE_MINUTES`` without a request, and
    ``SESSION_COOKIE_AGE`` seconds after they signed in, whatever they do."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        if "_auth_user_id" in session:
            now = int(time.time())
            last_seen = session.get(LAST_SEEN, now)
            signed_in_at = session.get(SIGNED_IN_AT, now)
            reason = None
            if now - last_seen > settings.SESSION_IDLE_MINUTES * 60:
                reason = (
                    f"You were signed out after {settings.SESSION_IDLE_MINUTES} minutes "
                    "without activity. Please sign in again."
                )
            elif now - signed_in_at > settings.SESSION_COOKIE_AGE:
                reason = "Your session has ended. Please sign in again."
            if reason:
                logout(request)
                messages.info(request, reason)
                come_back = request.get_full_path()
                if request.method != "GET" or request.path.startswith("/accounts/"):
                    come_back = reverse("dashboard")
                return _leave(request, redirect_to_login(come_back).url)
            if LAST_SEEN not in session or now - last_seen >= TOUCH_EVERY:
                session[LAST_SEEN] = now
            session.setdefault(SIGNED_IN_AT, now)
        return self.get_response(request)


class TwoFactorMiddleware:
    """Staff with an authenticator app enter its code after their password before
    anything else; clinic admins of a clinic that requires it set one up first."""

    OPEN = frozenset({"two_factor_verify", "two_factor_setup", "logout", "healthz", "video"})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        if request.resolver_match and request.resolver_match.url_name in self.OPEN:
            return None
        if has_device(request):
            target = "two_factor_verify"
        elif self.required(user):
            target = "two_factor_setup"
        else:
            return None
        return _leave(request, f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")

    @staticmethod
    def required(user) -> bool:
        """The user is an admin of a clinic that requires two-factor sign-in."""
        membership = membership_of(user)
        return bool(membership and membership.is_admin and membership.clinic.require_two_factor)


def has_device(request, *, user=None, fresh: bool = False) -> bool:
    """Whether the signed-in user has a confirmed authenticator app, read from the database
    at most once a minute (or now, with ``fresh``): a device added or removed in
    another session counts here within a minute, without a query on every page."""
    session = request.session
    now = int(time.time())
    if fresh or HAS_DEVICE not in session or now - session.get(HAS_DEVICE_AT, 0) >= TOUCH_EVERY:
        session[HAS_DEVICE] = has_authenticator(user or request.user)
        session[HAS_DEVICE_AT] = now
    return session[HAS_DEVICE]
