"""The patient's page, opened from the QR code on their handout: no login, no app.

The token in the URL is the credential. Its forms are exempt from Django's CSRF check
(``patient_form``): under ``no-referrer`` browsers post them with ``Origin: null``, which
the check refuses; and there is nothing ambient for another site to ride on: the token
is not a cookie, and the one cookie (the birth-year check) is ``SameSite=Strict``, so a
cross-site post arrives without it. Every answer about a token that does not open
a page is the same plain 404 (``gone``); misses are counted per address and refused
past a limit (``GUESS_LIMIT``), and logged without the token (``openhep.logs`` names
the route). Pages are ``noindex``, never cached by shared caches, and send no
Referer (``PageHeadersMiddleware`` below does it for every ``/p/`` answer).
"""

import datetime
import functools
import json
import logging
import uuid

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from clinic.access import client_ip
from clinic.throttle import cache_key, hit
from patientpage import questionnaires, selectors, services
from patientpage.forms import BirthYearForm, SessionForm
from patientpage.models import Difficulty
from prescriptions import links

logger = logging.getLogger(__name__)

# Wrong or unknown tokens one address may try in GUESS_WINDOW seconds; past that every
# token, right or wrong, gets 429 from that address until the window ends.
GUESS_LIMIT = 20
GUESS_WINDOW = 15 * 60
# Wrong birth years for one link in that window (whoever tries them).
BIRTH_YEAR_LIMIT = 5
CHECK_COOKIE = "openhep_page_check"
CHECK_SALT = "openhep.patientpage.birth-year"
CHECK_MAX_AGE = 400 * 24 * 3600


def gone(request, *, status: int = 404) -> HttpResponse:
    """The one answer for a token that opens nothing, whatever the reason."""
    return render(request, "patientpage/gone.html", status=status)


def _count_miss(request) -> None:
    """Count a token that opened nothing against this address, and log it (never the
    token: the address and the fact)."""
    ip = client_ip(request) or "unknown"
    hit(cache_key("page-miss", ip), limit=GUESS_LIMIT, window=GUESS_WINDOW)
    logger.warning("Patient page: a link that opens nothing was tried (%s)", ip)


def _over_limit(request) -> bool:
    ip = client_ip(request) or "unknown"
    key = cache_key("page-miss", ip)
    return (cache.get(key) or 0) > GUESS_LIMIT


def open_link_or_count(request, token):
    """The open link, or ``None`` after counting the miss."""
    if _over_limit(request):
        return None
    link = selectors.open_link(token)
    if link is None:
        _count_miss(request)
    return link


def refusal(request) -> HttpResponse:
    if _over_limit(request):
        return gone(request, status=429)
    return gone(request)


def needs_birth_year(request, link) -> bool:
    """Whether the clinic asks for the birth year and this browser has not given it."""
    patient = link.patient
    if not link.clinic.program_link_birth_year or patient.date_of_birth is None:
        return False
    try:
        value = request.get_signed_cookie(CHECK_COOKIE, salt=CHECK_SALT, max_age=CHECK_MAX_AGE)
    except (KeyError, signing.BadSignature):
        return True
    return value != str(link.pk)


def _page_path(token: str) -> str:
    return reverse("patientpage:page", args=[token])


@require_GET
def page(request, token):
    link = open_link_or_count(request, token)
    if link is None:
        return refusal(request)
    canonical = links.normalise(token)
    if token != canonical:  # Typed from paper with capitals or dashes.
        return redirect(_page_path(canonical))
    if needs_birth_year(request, link):
        return _check_page(request, link, BirthYearForm())
    if "HTTP_X_OPENHEP_OFFLINE_COPY" not in request.META:
        # Not the copy the page's own script keeps for offline use, right after an open.
        services.page_opened(link=link, actor=services.patient_actor(request))
    context = _page_context(link, canonical, SessionForm(), uuid.uuid4())
    context["large"] = request.GET.get("large") == "1"
    context["saved"] = request.GET.get("saved") == "1"
    context["answered"] = request.GET.get("answered") == "1"
    return render(request, "patientpage/page.html", context)


def patient_form(view):
    """For the views the patient's page posts to (see the module's docstring)."""
    return csrf_exempt(view)


@patient_form
@require_POST
def check(request, token):
    """The birth year, when the clinic asks for it; wrong answers count per link."""
    link = open_link_or_count(request, token)
    if link is None:
        return refusal(request)
    form = BirthYearForm(request.POST)
    tries_key = cache_key("page-birth-year", str(link.pk))
    if form.is_valid():
        if (cache.get(tries_key) or 0) >= BIRTH_YEAR_LIMIT:
            form.add_error(None, "Too many tries. Wait 15 minutes, or call your clinic.")
        elif form.cleaned_data["year"] == link.patient.date_of_birth.year:
            response = redirect(_page_path(links.normalise(token)))
            response.set_signed_cookie(
                CHECK_COOKIE,
                str(link.pk),
                salt=CHECK_SALT,
                max_age=CHECK_MAX_AGE,
                path=_page_path(links.normalise(token)),
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Strict",
            )
            return response
        else:
            hit(tries_key, limit=BIRTH_YEAR_LIMIT, window=GUESS_WINDOW)
            logger.warning("Patient page: a wrong birth year for program link %s", link.pk)
            form.add_error("year", "That is not the year we have. Check it, or call your clinic.")
    return _check_page(request, link, form, status=400)


def _check_page(request, link, form, *, status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "link": link,
        "clinic": link.clinic,
        "link_token": links.normalise(request.resolver_match.kwargs["token"]),
    }
    return render(request, "patientpage/check.html", context, status=status)


def _report_from_json(body: bytes) -> services.SessionReport:
    try:
        data = json.loads(body)
        started = parse_datetime(data["started_at"])
        if started is None:
            raise ValueError
        if timezone.is_naive(started):
            started = timezone.make_aware(started, datetime.UTC)
        pain = data.get("pain")
        return services.SessionReport(
            client_ref=uuid.UUID(str(data["session"])),
            started_at=started,
            done={int(i) for i in data.get("done", [])},
            difficulty={int(k): str(v) for k, v in (data.get("difficulty") or {}).items() if v},
            finished=bool(data.get("finished")),
            pain=None if pain in (None, "") else int(pain),
            note=str(data.get("note") or ""),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValidationError("That session could not be read.") from error


@patient_form
@require_POST
def session(request, token):
    """Store a session: JSON from the page's script (each tick, and again when done,
    sent later when offline), or the plain form when the script does not run."""
    link = open_link_or_count(request, token)
    if link is None:
        return refusal(request)
    if needs_birth_year(request, link):
        return gone(request, status=403)
    actor = services.patient_actor(request)
    if request.content_type == "application/json":
        try:
            report = _report_from_json(request.body)
            stored = services.session_record(link=link, report=report, actor=actor)
        except ValidationError as error:
            return JsonResponse({"ok": False, "error": " ".join(error.messages)}, status=400)
        return JsonResponse({"ok": True, "finished": stored.is_finished})
    return _session_form(request, link, token, actor)


def _page_context(link, token: str, form: SessionForm, session_ref) -> dict:
    """The page as a GET shows it, or as a refused plain-form post shows it again."""
    return {
        "link": link,
        "token": token,
        "h": selectors.page_snapshot(link),
        "exercises": form.exercises or selectors.page_exercises(link),
        "first_name": link.patient.preferred_name or link.patient.first_name,
        "clinic": link.clinic,
        "form": form,
        "session_ref": session_ref,
        "difficulties": Difficulty.choices,
        "pain_scale": range(11),
        "waiting": questionnaires.waiting(link),
        "progress": questionnaires.progress(link),
    }


def _session_form(request, link, token, actor):
    form = SessionForm(request.POST, exercises=selectors.page_exercises(link))
    if form.is_valid():
        try:
            services.session_record(link=link, report=form.report(), actor=actor)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect(_page_path(links.normalise(token)) + "?saved=1#done")
    context = _page_context(
        link, links.normalise(token), form, form.data.get("session") or uuid.uuid4()
    )
    return render(request, "patientpage/page.html", context, status=400)


@require_GET
def manifest(request, token):
    """Installing the page puts it on the phone's home screen, opening at this link."""
    link = open_link_or_count(request, token)
    if link is None:
        return refusal(request)
    path = _page_path(links.normalise(token))
    body = {
        "name": f"Exercises – {link.clinic.name}",
        "short_name": "Exercises",
        "start_url": path,
        "scope": path,
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": link.clinic.brand_colour,
        "icons": [
            {"src": static("patientpage/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("patientpage/icon-512.png"), "sizes": "512x512", "type": "image/png"},
        ],
    }
    return JsonResponse(body, content_type="application/manifest+json")


@functools.cache
def _worker_script() -> bytes:
    path = finders.find("patientpage/sw.js")
    assert path, "static/patientpage/sw.js is missing"
    with open(path, "rb") as handle:
        return handle.read()


@require_GET
def service_worker(request):
    """The offline worker, served from /p/ so it may control the pages under it."""
    response = HttpResponse(_worker_script(), content_type="text/javascript")
    response["Service-Worker-Allowed"] = "/p/"
    response["Cache-Control"] = "no-cache"
    return response


class PageHeadersMiddleware:
    """Every answer under /p/: no Referer (the token is in the URL), not indexed, not
    kept by shared caches."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/p/"):
            response["Referrer-Policy"] = "no-referrer"
            response["X-Robots-Tag"] = "noindex, nofollow"
            if request.path != "/p/sw.js":
                response["Cache-Control"] = "private, no-store"
        return response
