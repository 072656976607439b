"""JSON log lines with a request id that follows a handout email into the worker."""

import io
import json
import logging
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from openhep import logs
from openhep.mailers import mailer_from_url
from prescriptions.models import Delivery

UTC_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00\Z")
PRIVATE = ("Jordan", "Ellis", "jordan@patient.example")


@pytest.fixture
def json_lines():
    """What the production handler writes, parsed: every logger, from DEBUG up."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    lines: list[dict] = []

    def read() -> list[dict]:
        lines[:] = [json.loads(line) for line in stream.getvalue().splitlines()]
        return lines

    yield read
    root.removeHandler(handler)
    root.setLevel(level)


def record(message="hello %s", args=("world",), exc_info=None, **extra):
    entry = logging.LogRecord("openhep.test", logging.WARNING, __file__, 1, message, args, exc_info)
    entry.__dict__.update(extra)
    return entry


def test_a_line_is_one_json_object_with_utc_time():
    line = logs.JsonFormatter().format(record())
    entry = json.loads(line)
    assert "\n" not in line
    assert UTC_TIME.match(entry["time"]), entry["time"]
    assert entry == {
        "time": entry["time"],
        "level": "WARNING",
        "logger": "openhep.test",
        "message": "hello world",
    }


def test_a_line_carries_the_bound_request_id():
    with logs.request_id_bound("req-0123456789"):
        entry = json.loads(logs.JsonFormatter().format(record()))
    assert entry["request_id"] == "req-0123456789"


def test_only_known_extras_are_written():
    entry = json.loads(
        logs.JsonFormatter().format(record(status=200, view="patients:list", patient="Ellis"))
    )
    assert entry["status"] == 200 and entry["view"] == "patients:list"
    assert "patient" not in entry and "Ellis" not in json.dumps(entry)


def test_an_exception_keeps_its_type_and_place_but_not_its_message():
    typed = " ".join(PRIVATE[:2])  # Not in the source line the traceback shows.
    try:
        int(typed)
    except ValueError:
        exc_info = sys.exc_info()
    entry = json.loads(logs.JsonFormatter().format(record(exc_info=exc_info)))
    assert entry["exception"]["type"] == "builtins.ValueError"
    assert "test_json_logs.py" in entry["exception"]["traceback"]
    assert "int(typed)" in entry["exception"]["traceback"]
    assert "Ellis" not in json.dumps(entry)


def test_the_request_id_comes_from_the_proxy_when_it_looks_sane(client, db):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="f3a1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d")
    assert response["X-Request-ID"] == "f3a1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d"


@pytest.mark.parametrize(
    "given", ["", "short", "has spaces in it", "line\nbreak-0123456789", "x" * 200, "ünïcode-id-12"]
)
def test_an_insane_request_id_is_replaced(client, db, given):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=given)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_one_line_per_request_without_the_query_string(alice_client, patient, json_lines):
    alice_client.get(reverse("patients:list") + "?q=Ellis", HTTP_X_REQUEST_ID="req-list-000001")
    [line] = [e for e in json_lines() if e["logger"] == "openhep.request"]
    assert line["request_id"] == "req-list-000001"
    assert (line["method"], line["path"], line["view"], line["status"]) == (
        "GET",
        "/patients/",
        "patients:list",
        200,
    )
    assert line["duration_ms"] >= 0
    assert "Ellis" not in json.dumps(json_lines())


def test_a_link_whose_path_is_a_credential_is_logged_by_its_route(client, db, json_lines):
    client.get("/accounts/invitation/secret-invitation-token/")
    [line] = [e for e in json_lines() if e["logger"] == "openhep.request"]
    assert "secret-invitation-token" not in json.dumps(json_lines())
    assert line["path"] == "/accounts/invitation/<str:token>/"


def test_probes_are_not_logged_unless_they_fail(client, db, json_lines):
    client.get("/healthz")
    client.get("/readyz")
    assert not [e for e in json_lines() if e["logger"] == "openhep.request"]
    client.get("/healthz/queue")  # 403: no token.
    [line] = [e for e in json_lines() if e["logger"] == "openhep.request"]
    assert line["status"] == 403


def test_djangos_own_response_lines_carry_the_request_id(client, db, json_lines):
    client.get("/no-such-page/", HTTP_X_REQUEST_ID="req-missing-0001")
    [line] = [e for e in json_lines() if e["logger"] == "django.request"]
    assert line["message"] == "Not Found: /no-such-page/"
    assert line["request_id"] == "req-missing-0001"


@pytest.mark.django_db(transaction=True)
def test_the_request_id_follows_an_email_into_the_worker(
    alice_client, issued, db_tasks, settings, tmp_path, json_lines
):
    """The click and the worker's lines about its email share one id; no line anywhere
    holds the patient's name or address."""
    settings.MAILERS = {"default": mailer_from_url(f"file://{tmp_path / 'mail'}")}
    request_id = "req-email-0123456789"
    response = alice_client.post(
        reverse("prescriptions:email", args=[issued.pk]),
        {"request_key": str(uuid.uuid4())},
        HTTP_X_REQUEST_ID=request_id,
    )
    assert response.status_code == 302
    assert Delivery.objects.get().status == Delivery.Status.QUEUED
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=1)
    assert Delivery.objects.get().status == Delivery.Status.SENT

    lines = json_lines()
    [click] = [e for e in lines if e["logger"] == "openhep.request" and e["method"] == "POST"]
    assert click["request_id"] == request_id and click["view"] == "prescriptions:email"
    task_lines = [
        e for e in lines if e["logger"] == "django.tasks" and "send_delivery" in e["message"]
    ]
    states = [e["message"].rsplit("state=", 1)[-1] for e in task_lines if "state=" in e["message"]]
    assert states == ["RUNNING", "SUCCESSFUL"]
    assert {e["request_id"] for e in task_lines} == {request_id}
    everything = json.dumps(lines)
    for private in PRIVATE:
        assert private not in everything, private


@pytest.mark.django_db(transaction=True)
def test_a_task_queued_without_a_request_gets_an_id_of_its_own(db_tasks, json_lines):
    from prescriptions import tasks

    tasks.send_delivery.enqueue(12345)  # From a command or the shell: no request.
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=1)
    ids = {e.get("request_id") for e in json_lines() if e["logger"] == "django.tasks"}
    assert len(ids) == 1 and re.fullmatch(r"[0-9a-f]{32}", ids.pop())


def test_the_default_format_is_json_in_production_and_plain_in_development(tmp_path):
    script = "import logging, django; django.setup(); logging.getLogger('openhep.x').warning('hi')"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SECRET_KEY": "x" * 50,
        "DJANGO_SETTINGS_MODULE": "openhep.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    outputs = {}
    for debug in ("0", "1"):
        result = subprocess.run(
            [sys.executable, "-c", script],
            env={**env, "DEBUG": debug},
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        outputs[debug] = result.stderr.strip().splitlines()[-1]
    entry = json.loads(outputs["0"])
    assert (entry["logger"], entry["message"]) == ("openhep.x", "hi")
    assert UTC_TIME.match(entry["time"])
    assert outputs["1"].endswith("WARNING openhep.x hi")


def test_errors_are_emailed_to_admins_without_the_exceptions_message(settings, mailoutbox, caplog):
    """A task that failed in the worker has no request; its message is hidden all the same."""
    settings.ADMINS = ["Ops <ops@clinic.example>"]
    caplog.set_level(logging.INFO, logger="django.tasks")  # `db_worker -v0` silences it.
    address = PRIVATE[2]  # The report shows source lines: the address is not in them.
    try:
        raise ValueError(f"could not send to {address}")
    except ValueError:
        logging.getLogger("django.tasks").error("Task id=1 state=FAILED", exc_info=True)
    [message] = mailoutbox
    assert message.to == ["Ops <ops@clinic.example>"]
    assert "ValueError" in message.body
    assert address not in message.body + message.subject
    assert "message hidden" in message.body


def test_djangos_lines_about_a_credential_link_name_its_route(rf, settings, mailoutbox):
    """``Internal Server Error: /accounts/invitation/<token>/``: the log line, the email
    subject and the report name the route; the token goes nowhere."""
    from django.urls import resolve

    settings.ADMINS = ["ops@clinic.example"]
    request = rf.get("/accounts/invitation/secret-invitation-token/")
    request.resolver_match = resolve(request.path)
    request.user = None
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        exc_info = sys.exc_info()
    line = logging.LogRecord(
        "django.request",
        logging.ERROR,
        __file__,
        1,
        "%s: %s",
        ("Internal Server Error", request.path),
        exc_info,
    )
    line.request = request
    line.status_code = 500
    entry = json.loads(logs.JsonFormatter().format(line))
    assert entry["message"] == "Internal Server Error: /accounts/invitation/<str:token>/"
    logs.NoPatientDataAdminEmailHandler().handle(line)
    [message] = mailoutbox
    assert "/accounts/invitation/<str:token>/" in message.subject
    assert "secret-invitation-token" not in message.subject + message.body
