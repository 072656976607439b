"""Signing in and looking after one's own account: two-factor codes, joining a
clinic from an invitation, the account page. Password reset and change are
Django's own views (see clinic/urls.py) with our templates."""

import re
from base64 import b32encode

import segno
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, TemplateView
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic import staff, throttle, two_factor
from clinic.access import client_ip
from clinic.audit import Actor
from clinic.forms import (
    ConfirmItIsYouForm,
    InvitationAcceptForm,
    PasswordConfirmForm,
    PasswordResetForm,
    TwoFactorCodeForm,
    TwoFactorVerifyForm,
)
from clinic.middleware import TwoFactorMiddleware, has_device
from clinic.tasks import send_password_reset

THROTTLED = "Too many wrong codes in a row: wait a little, then enter the newest code in your app."


def _next_or(request, default: str):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(default)


class LoginView(auth_views.LoginView):
    """Django's, without its error for a signed-in visit whose ``next`` is the login page
    itself (a bookmark, or a tab left open across an idle sign-out)."""

    redirect_authenticated_user = True

    def get_redirect_url(self):
        url = super().get_redirect_url()
        return "" if url.split("?")[0] in (self.request.path, reverse("logout")) else url


class AccountView(LoginRequiredMixin, TemplateView):
    template_name = "registration/account.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(
            has_device=two_factor.has_authenticator(user),
            recovery_codes_left=two_factor.recovery_codes_left(user),
            recovery_form=ConfirmItIsYouForm(user=user),
            two_factor_required=TwoFactorMiddleware.required(user),
            **kwargs,
        )


def _show_recovery_codes(request, codes: list[str], *, turned_on: bool, next_url: str = ""):
    """The codes, once: rendered in the answer to the POST that made them, never stored
    anywhere they could be shown again."""
    return render(
        request,
        "registration/recovery_codes.html",
        {
            "codes": [two_factor.format_recovery_code(code) for code in codes],
            "turned_on": turned_on,
            "next": next_url,
        },
    )


@method_decorator(never_cache, name="dispatch")
class TwoFactorSetupView(LoginRequiredMixin, FormView):
    """Pair an authenticator app: scan the code (or type the key), then prove it works."""

    template_name = "registration/two_factor_setup.html"
    form_class = TwoFactorCodeForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and has_device(request, fresh=True):
            # A second device only with a code from the first: a stolen password and
            # an older session must not be enough to add one.
            if not request.user.is_verified():
                return redirect("two_factor_verify")
            messages.info(request, "Two-factor sign-in is already on for your account.")
            return redirect("account")
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def device(self) -> TOTPDevice:
        # This session's own secret: another session (perhaps someone who knew the
        # password) never sees the key the owner confirms.
        return two_factor.setup_device(user=self.request.user, session=self.request.session)

    def get_context_data(self, **kwargs):
        device = self.device
        return super().get_context_data(
            qr=segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2),
            # In groups of four, as authenticator apps show and accept it.
            key=" ".join(re.findall(".{1,4}", b32encode(device.bin_key).decode())),
            required=TwoFactorMiddleware.required(self.request.user),
            next=self.request.GET.get("next", ""),
            **kwargs,
        )

    def form_valid(self, form):
        device = self.device
        if not device.verify_is_allowed()[0]:
            form.add_error("code", THROTTLED)
            return self.form_invalid(form)
        if not device.verify_token(form.cleaned_data["code"]):
            form.add_error(
                "code",
                "That code did not match. Check the time on your phone and try the newest code.",
            )
            return self.form_invalid(form)
        codes = two_factor.two_factor_confirm(
            device=device, actor=Actor.of(self.request), session=self.request.session
        )
        otp_login(self.request, device)
        has_device(self.request, fresh=True)
        target = self.request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(
            target, {self.request.get_host()}, self.request.is_secure()
        ):
            target = ""
        return _show_recovery_codes(self.request, codes, turned_on=True, next_url=target)


@method_decorator(never_cache, name="dispatch")
class TwoFactorVerifyView(LoginRequiredMixin, FormView):
    """The second step of signing in: a code from the app, or a recovery code."""

    template_name = "registration/two_factor_verify.html"
    form_class = TwoFactorVerifyForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not has_device(request, fresh=True):
            # Removed in another session or by a site admin (a lost phone): nothing to
            # verify; the middleware sends an admin who must have one to set it up.
            return _next_or(request, "dashboard")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(next=self.request.GET.get("next", ""), **kwargs)

    def form_valid(self, form):
        user = self.request.user
        recovery = form.cleaned_data["kind"] == "recovery"
        # Only the kind of device the code is for: a code tried against the other kind
        # would count as a failure there, and throttle the recovery codes after a few
        # ordinary sign-ins.
        devices = (
            StaticDevice.objects.filter(user=user, confirmed=True)
            if recovery
            else TOTPDevice.objects.filter(user=user, confirmed=True)
        )
        devices = list(devices)
        if devices and not any(device.verify_is_allowed()[0] for device in devices):
            form.add_error("code", THROTTLED)
            return self.form_invalid(form)
        device = next((d for d in devices if d.verify_token(form.cleaned_data["code"])), None)
        if device is None:
            form.add_error(
                "code",
                "That recovery code did not match, or it was used already."
                if recovery
                else "That code did not match. Try the newest code in your app.",
            )
            return self.form_invalid(form)
        otp_login(self.request, device)
        if recovery:
            two_factor.recovery_code_used(user=user, actor=Actor.of(self.request))
            left = two_factor.recovery_codes_left(user)
            messages.warning(
                self.request,
                f"You signed in with a recovery code; it will not work again ({left} left). "
                "Lost your phone? Turn two-factor sign-in off and on again on your account "
                "page to pair a new one, and make new recovery codes.",
            )
        return _next_or(self.request, "dashboard")


class VerifiedAccountMixin(LoginRequiredMixin):
    """Changing two-factor settings needs a session that entered its code."""

    def dispatch(self, request, *args, **kwargs):
        if (
            request.user.is_authenticated
            and has_device(request, fresh=True)
            and not request.user.is_verified()
        ):
            return redirect("two_factor_verify")
        return super().dispatch(request, *args, **kwargs)


class TwoFactorRemoveView(VerifiedAccountMixin, FormView):
    template_name = "registration/two_factor_remove.html"
    form_class = PasswordConfirmForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and TwoFactorMiddleware.required(request.user):
            messages.error(
                request,
                "Your clinic requires two-factor sign-in for its admins, so it cannot be "
                "turned off for your account.",
            )
            return redirect("account")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        two_factor.two_factor_remove(user=self.request.user, actor=Actor.of(self.request))
        has_device(self.request, fresh=True)
        messages.success(self.request, "Two-factor sign-in is off for your account.")
        return redirect("account")


@method_decorator(never_cache, name="dispatch")
class RecoveryCodesView(VerifiedAccountMixin, FormView):
    """A new set of recovery codes (the old ones stop working), after the password or
    a code from the app."""

    template_name = "registration/recovery_codes_new.html"
    form_class = ConfirmItIsYouForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not has_device(request, fresh=True):
            messages.info(request, "Recovery codes come with two-factor sign-in: set it up first.")
            return redirect("account")
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        codes = two_factor.recovery_codes_replace(
            user=self.request.user, actor=Actor.of(self.request)
        )
        return _show_recovery_codes(self.request, codes, turned_on=False)


@method_decorator(never_cache, name="dispatch")
class InvitationAcceptView(View):
    """Where an invitation link lands: the invited person chooses a password and joins."""

    template_name = "registration/invitation_accept.html"
    SESSION_KEY = "openhep_invitation_token"
    # The link's token moves into the session and the browser goes on to this URL, so
    # the token does not sit in access logs or reach another site as a Referer (as
    # Django does with password reset links).
    IN_SESSION = "accept"

    def dispatch(self, request, token):
        if token != self.IN_SESSION:
            request.session[self.SESSION_KEY] = token
            return redirect("invitation_accept", token=self.IN_SESSION)
        token = request.session.get(self.SESSION_KEY, "")
        self.invitation = staff.invitation_for_token(token) if token else None
        if self.invitation is None:
            return render(request, "registration/invitation_invalid.html", status=404)
        if request.user.is_authenticated:
            return render(
                request,
                "registration/invitation_invalid.html",
                {"signed_in": True},
                status=409,
            )
        return super().dispatch(request, token)

    def get(self, request, token):
        form = InvitationAcceptForm(invitation=self.invitation)
        return render(request, self.template_name, {"form": form, "invitation": self.invitation})

    def post(self, request, token):
        form = InvitationAcceptForm(request.POST, invitation=self.invitation)
        if form.is_valid():
            try:
                user = staff.invitation_accept(
                    invitation=self.invitation, form=form, ip=client_ip(request)
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                request.session.pop(self.SESSION_KEY, None)
                login(request, user, backend="clinic.auth.EmailBackend")
                messages.success(
                    request,
                    f"Welcome to {self.invitation.clinic.name}. You sign in with "
                    f"{user.email} from now on.",
                )
                return redirect("dashboard")
        return render(request, self.template_name, {"form": form, "invitation": self.invitation})


class PasswordResetView(auth_views.PasswordResetView):
    """Django's, with limits per address and per client address, and the email sent
    by a task (``clinic.tasks``): the request does the same for every address."""

    form_class = PasswordResetForm

    def form_valid(self, form):
        email = form.cleaned_data["email"].strip().lower()
        minutes = settings.PASSWORD_RESET_LIMIT_MINUTES
        # Both counted every time, so neither limit says whether the address has an account.
        within = [
            throttle.hit(
                throttle.cache_key("password-reset-ip", client_ip(self.request) or ""),
                limit=settings.PASSWORD_RESET_LIMIT_PER_IP,
                window=minutes * 60,
            ),
            throttle.hit(
                throttle.cache_key("password-reset-address", email),
                limit=settings.PASSWORD_RESET_LIMIT_PER_ADDRESS,
                window=minutes * 60,
            ),
        ]
        if not all(within):
            form.add_error(
                None,
                "Too many password reset requests for this address or from your network. "
                f"A link already sent still works; otherwise try again in {minutes} minutes.",
            )
            return self.render_to_response(self.get_context_data(form=form), status=429)
        send_password_reset.enqueue(
            email=email, base_url=settings.SITE_URL or self.request.build_absolute_uri("/")[:-1]
        )
        return redirect(self.get_success_url())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's, and a new password also lifts a lockout from too many wrong ones."""

    def form_valid(self, form):
        response = super().form_valid(form)
        axes_reset(username=form.user.email)
        return response
