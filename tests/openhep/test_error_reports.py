"""Error reports to Sentry (SENTRY_DSN) carry no patient data (openhep/logs.py)."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from unittest import mock

from django.apps import apps

from openhep import logs

# Run in its own process: Sentry's Django integration patches Django for good.
REPORT_AN_ERROR = textwrap.dedent(
    """
    import json, sys, types
    import sentry_sdk
    from sentry_sdk.transport import Transport

    events = []

    class Capture(Transport):
        def capture_envelope(self, envelope):
            event = envelope.get_event()
            if event is not None:
                events.append(event)

    real_init = sentry_sdk.init
    sentry_sdk.init = lambda **options: real_init(**options, transport=Capture(options))

    import django
    django.setup()  # SENTRY_DSN is set: openhep's start-up initialises Sentry.

    from django.test import Client, override_settings
    from django.urls import path

    def boom(request, who):
        patient_name = request.POST["name"]  # A local variable holding patient data.
        raise ValueError(f"invalid literal: {patient_name!r} ({request.GET['q']})")

    urls = types.ModuleType("urls")
    urls.urlpatterns = [path("boom/<str:who>/", boom)]
    sys.modules["urls"] = urls
    with override_settings(
        ROOT_URLCONF="urls",
        MIDDLEWARE=["openhep.logs.RequestIdMiddleware"],
        ALLOWED_HOSTS=["testserver"],
    ):
        response = Client(raise_request_exception=False).post(
            "/boom/" + sys.argv[1] + "/?q=" + sys.argv[2],
            {"name": sys.argv[3], "notes": sys.argv[4]},
            HTTP_COOKIE="sessionid=" + sys.argv[5],
            HTTP_REFERER="https://clinic.example/patients/?q=" + sys.argv[2],
        )
    assert response.status_code == 500, response.status_code
    sentry_sdk.flush()
    print(json.dumps(events, default=str))
    """
)
PRIVATE = {
    "who": "token-abcdef0123456789",
    "q": "Ellis",
    "name": "Jordan Ellis",
    "notes": "Left knee surgery in March",
    "cookie": "session-secret-0123456789",
}


def test_a_500_reaches_sentry_without_patient_data(tmp_path):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DEBUG": "0",
        "SECRET_KEY": "x" * 50,
        "DJANGO_SETTINGS_MODULE": "openhep.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        "SENTRY_DSN": "https://public@sentry.invalid/1",
        "LOG_FORMAT": "plain",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    result = subprocess.run(
        [sys.executable, "-c", REPORT_AN_ERROR, *PRIVATE.values()],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    events = json.loads(result.stdout.strip().splitlines()[-1])
    assert events, "Sentry got no event"
    text = json.dumps(events)
    for key, value in PRIVATE.items():
        assert value not in text, key
    assert "Ellis" not in text
    [event] = [e for e in events if e.get("exception")]
    [exception] = event["exception"]["values"]
    assert exception["type"] == "ValueError" and exception["value"] == "(message hidden)"
    frames = exception["stacktrace"]["frames"]
    assert frames[-1]["function"] == "boom" and "vars" not in frames[-1]
    assert set(event.get("request", {})) <= {"method"}  # No URL, body, cookies, headers.
    assert event["transaction"] == "/boom/{who}/"  # The route, not the path.
    assert "user" not in event


def test_before_send_strips_what_the_sdk_could_add():
    event = {
        "request": {
            "method": "GET",
            "url": "https://clinic.example/p/secret-token/",
            "query_string": "q=Ellis",
            "data": {"name": "Jordan"},
            "cookies": {"sessionid": "s"},
            "headers": {"Referer": "https://clinic.example/?q=Ellis"},
        },
        "user": {"email": "jordan@patient.example"},
        "extra": {"patient": "Jordan"},
        "logentry": {"message": "Failed for %s", "params": ["Jordan"], "formatted": "Jordan"},
        "message": "Failed for Jordan",
        "exception": {
            "values": [
                {
                    "type": "KeyError",
                    "value": "'Jordan'",
                    "stacktrace": {"frames": [{"function": "f", "vars": {"n": "Jordan"}}]},
                }
            ]
        },
        "threads": {"values": [{"stacktrace": {"frames": [{"vars": {"n": "Jordan"}}]}}]},
        "breadcrumbs": {
            "values": [
                {"type": "log", "category": "openhep", "message": "ok", "data": {"n": "Jordan"}},
                {"type": "default", "category": "query", "message": "SELECT 'Jordan'"},
                {"type": "http", "category": "httplib", "data": {"url": "/?q=Jordan"}},
            ]
        },
    }
    cleaned = logs.sentry_before_send(event, {})
    assert "Jordan" not in json.dumps(cleaned) and "Ellis" not in json.dumps(cleaned)
    assert cleaned["request"] == {"method": "GET"}
    assert cleaned["logentry"] == {"message": "Failed for %s"}
    assert cleaned["breadcrumbs"]["values"] == [
        {"type": "log", "category": "openhep", "message": "ok"}
    ]


def test_sentry_options_collect_nothing_personal():
    options = logs.sentry_options(dsn="https://public@sentry.invalid/1", environment="test")
    assert options["send_default_pii"] is False
    assert options["include_local_variables"] is False
    assert options["max_request_body_size"] == "never"
    assert "traces_sample_rate" not in options  # No tracing: it would send every request.


def test_sentry_starts_only_with_a_dsn(settings):
    config = apps.get_app_config("openhep")
    with mock.patch.object(logs, "sentry_init") as sentry_init:
        settings.SENTRY_DSN = ""
        config.ready()
        sentry_init.assert_not_called()
        settings.SENTRY_DSN = "https://public@sentry.invalid/1"
        config.ready()
        sentry_init.assert_called_once_with(
            dsn="https://public@sentry.invalid/1", environment=settings.SENTRY_ENVIRONMENT
        )
