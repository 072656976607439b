"""Every page's HTML is valid, checked by the Nu HTML Checker (``vnu-jar`` from npm,
installed by ``make test``; it needs Java: skipped without it locally, failing in CI).

Every named URL of the app is fetched with GET: the clinic's pages as a clinic admin
(who sees all of them) on the access walk's objects, the patient's page under its
token, and the curators' admin pages as a superuser. Each HTML answer is written to a
folder and the checker reads them all in one run. htmx's ``hx-*`` attributes are the
only thing allowed beyond the standard.
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from clinic.audit import Actor
from clinic.models import Membership
from outcomes.services import schedule_add
from patientpage.models import FollowUp
from prescriptions import links
from prescriptions.models import ProgramLink
from tests.factories import UserFactory
from tests.test_access import (  # noqa: F401  (objects: the access walk's fixture)
    ROUTES,
    issued_elsewhere,
    objects,
    url_for,
)

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1]
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
# htmx's attributes are not in the HTML standard; everything else must be.
ALLOWED = re.compile(r"Attribute “hx-[a-z-]+” not allowed on element")
# Django's own admin widgets, on the operator's user, membership and device pages (the
# curators' exercise pages have none of these): an autocomplete select is filled by
# script, so it is empty or starts with the chosen option; the read-only password
# hash is a div marked disabled; a field that keeps its initial value in a hidden
# input gives that input its help text's aria-describedby too.
DJANGO_ADMIN_WIDGETS = re.compile(
    r"A “select” element with a “required” attribute.*must have a descendant “option”"
    r"|The first “option” element in a “select” element with a “required” attribute"
    r"|Attribute “disabled” not allowed on element “div” at this point"
    r"|An “input” element with a “type” attribute whose value is “hidden” must not have "
    r"any “aria-\*” attributes"
)
# Routes whose answer is not an HTML page, or that sign the user out.
NOT_PAGES = {"logout", "healthz", "readyz", "health_queue", "metrics", "media"}


def plain_routes(patterns=None, namespace=""):
    """Named URLs that take no argument, outside the admin (checked on its own below)."""
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            if ns == "admin":
                continue
            yield from plain_routes(entry.url_patterns, f"{namespace}{ns}:" if ns else namespace)
        elif isinstance(entry, URLPattern) and entry.name and not entry.pattern.converters:
            name = f"{namespace}{entry.name}"
            if name not in NOT_PAGES:
                yield name


def admin_urls() -> list[str]:
    urls = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        if model_admin.has_add_permission is not None:
            urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            urls.append(
                reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk])
            )
    return urls


def patient_page_urls(objects) -> list[str]:  # noqa: F811
    issued = issued_elsewhere(objects)
    token = links.token_of(ProgramLink.objects.get(prescription=issued))
    asked = schedule_add(
        prescription=issued,
        questionnaire=objects["questionnaire"],
        when="now",
        actor=Actor(issued.therapist),
    )
    return [
        f"/p/{token}/",
        f"/p/{token}/?large=1",
        f"/p/{token}/reminders/",
        reverse("patientpage:questionnaire", kwargs={"token": token, "pk": asked.pk}),
    ]


def vnu_errors(folder: Path) -> list[str]:
    java = shutil.which("java")
    if java is None or not VNU.exists():
        missing = (
            f"The HTML checker needs Java and {VNU.relative_to(ROOT)}: install a JRE "
            "(.ci/run does) and run npm ci (make test does)."
        )
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(missing)
        pytest.skip(missing)
    result = subprocess.run(  # noqa: S603 (our own command line, no shell)
        [java, "-Xss4m", "-jar", str(VNU), "--format", "json", "--errors-only", str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    messages = json.loads(result.stderr or '{"messages": []}')["messages"]
    return [
        f"{Path(m.get('url', '')).name}:{m.get('lastLine', '?')}: {m['message']}"
        for m in messages
        if m.get("type") == "error"
        and not ALLOWED.search(m["message"])
        and not (
            Path(m.get("url", "")).name.startswith("admin_")
            and DJANGO_ADMIN_WIDGETS.search(m["message"])
        )
    ]


def save(folder: Path, url: str, response) -> bool:
    if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
        return False
    name = re.sub(r"[^A-Za-z0-9]+", "_", url).strip("_") or "root"
    content = response.content
    if not content.lstrip().lower().startswith(b"<!doctype html>"):
        # A part of a page that htmx swaps in (e.g. a handout's state): checked inside
        # the smallest valid page around it.
        content = (
            b'<!DOCTYPE html><html lang="en"><head><title>Part of a page</title></head>'
            b"<body>" + content + b"</body></html>"
        )
    (folder / f"{name}.html").write_bytes(content)
    return True


def test_every_page_is_valid_html(client, clinic, objects, tmp_path):  # noqa: F811
    # Someone to call, so the dashboard's and the calls page's lines are drawn too.
    FollowUp.objects.create(
        clinic=clinic,
        patient=objects["patient"],
        prescription=objects["prescription"],
        reason=FollowUp.Reason.NOTE,
    )
    tmp_path = Path(os.environ.get("HTML_VALID_KEEP", tmp_path / "pages"))
    tmp_path.mkdir(parents=True, exist_ok=True)
    admin_user = objects["membership"].user
    Membership.objects.filter(user=admin_user).update(role=Membership.Role.ADMIN)
    client.force_login(admin_user)
    saved = 0
    urls = [reverse(name) for name in plain_routes()]
    urls += [url_for(name, params, objects) for name, params in ROUTES]
    urls += patient_page_urls(objects)
    for url in urls:
        saved += save(tmp_path, url, client.get(url))
    client.logout()
    for url in [reverse(name) for name in ("login", "password_reset")]:
        saved += save(tmp_path, f"anonymous{url}", client.get(url))
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for url in admin_urls():
        saved += save(tmp_path, f"admin{url}", client.get(url))
    # The walk reached the pages it is for (a broken walk would check nothing).
    assert saved >= 40, f"only {saved} pages were fetched"
    errors = vnu_errors(tmp_path)
    assert errors == [], "\n".join(errors)
