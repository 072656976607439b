"""Signing in with an email address."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """Django's model backend, with the user's clinic loaded in the same query. The
    address is matched whatever its letter case (``UserManager.get_by_natural_key``).

    Every staff page needs the user, their membership and their clinic; one
    join instead of three queries per request.
    """

    def get_user(self, user_id):
        User = get_user_model()
        try:
            user = User._default_manager.select_related("membership__clinic").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


def axes_username(request, credentials=None) -> str:
    """The address django-axes counts failures against, lower-cased: otherwise each
    spelling (``Alice@…``, ``ALICE@…``) would get its own five tries at one account."""
    source = credentials if credentials else getattr(request, "POST", {})
    return (source.get("username") or "").strip().lower()
