"""The one door into clinic data for the staff app.

Every staff view inherits ``ClinicStaffMixin``; every object it touches comes
through a ``get_<thing>_for(user, ...)`` selector that filters by the user's
clinic, so another clinic's object is a 404 everywhere, the same way.
"""

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied

from clinic.models import Clinic, Membership


def membership_of(user) -> Membership | None:
    if not user.is_authenticated:
        return None
    try:
        return user.membership
    except Membership.DoesNotExist:
        return None


def clinic_of(user) -> Clinic:
    membership = membership_of(user)
    if membership is None or not user.is_active:
        raise PermissionDenied("Your account is not a member of a clinic.")
    return membership.clinic


class ClinicStaffMixin(LoginRequiredMixin):
    """Logged in, active, and a member of a clinic; sets ``self.clinic``."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.membership = membership_of(request.user)
        if self.membership is None:
            raise PermissionDenied("Your account is not a member of a clinic.")
        self.clinic = self.membership.clinic
        return super().dispatch(request, *args, **kwargs)


class ClinicAdminMixin(ClinicStaffMixin):
    """Only the clinic's admins: therapists get 403."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            membership = membership_of(request.user)
            if membership is None or not membership.is_admin:
                raise PermissionDenied("Only the clinic's admins can do this.")
        return super().dispatch(request, *args, **kwargs)


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or behind ``PROXY_COUNT`` trusted proxies the
    address the outermost of them saw (clients can forge the rest of X-Forwarded-For)."""
    if settings.PROXY_COUNT:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= settings.PROXY_COUNT:
            return forwarded[-settings.PROXY_COUNT]
    return request.META.get("REMOTE_ADDR") or None
