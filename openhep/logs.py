"""Error reports without patient data.

A 500 email or log line must not carry what a therapist typed (a patient's
name in a search box, their notes in a form) nor what a view held in its
variables. Production reports keep the names, never the values.

Below them: request ids and the JSON log format, the reporter for ADMINS' emails,
and the optional Sentry reports, held to the same rule.
"""

import contextvars
import copy
import json
import logging
import re
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from django.utils.log import AdminEmailHandler
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

HIDDEN = "********************"


class NoPatientDataReporterFilter(SafeExceptionReporterFilter):
    cleansed_substitute = HIDDEN

    def get_post_parameters(self, request):
        if request is None or not self.is_active(request):
            return super().get_post_parameters(request)
        return self._cleanse_multivaluedict(request.POST, "__ALL__")

    # Only these request headers and server variables are shown; any other (RAW_URI,
    # HX-Current-URL, Referer, cookies, the query string…) may carry what was typed.
    SHOWN_META = frozenset(
        {
            "REQUEST_METHOD",
            "PATH_INFO",
            "SCRIPT_NAME",
            "SERVER_NAME",
            "SERVER_PORT",
            "SERVER_PROTOCOL",
            "CONTENT_TYPE",
            "CONTENT_LENGTH",
            "HTTP_HOST",
            "HTTP_USER_AGENT",
            "HTTP_ACCEPT",
            "HTTP_HX_REQUEST",
            "HTTP_HX_TARGET",
            "wsgi.url_scheme",
        }
    )

    def get_safe_request_meta(self, request):
        meta = super().get_safe_request_meta(request)
        if self.is_active(request):
            meta = {
                key: (value if key in self.SHOWN_META else HIDDEN) for key, value in meta.items()
            }
        return meta

    def get_traceback_frame_variables(self, request, tb_frame):
        if not self.is_active(request):
            return super().get_traceback_frame_variables(request, tb_frame)
        return [(name, HIDDEN) for name in tb_frame.f_locals]


class NoPatientDataReporter(ExceptionReporter):
    """Also hides the query string, which Django's reporter shows unfiltered."""

    def get_traceback_data(self):
        data = super().get_traceback_data()
        if self.request is not None and self.filter.is_active(self.request):
            data["request_GET_items"] = [(key, HIDDEN) for key in self.request.GET]
            data["request_FILES_items"] = [(key, HIDDEN) for key in self.request.FILES]
            data["request_insecure_uri"] = loggable_path(self.request)
            if data.get("exception_value"):
                # An exception's message can quote input ("invalid literal…: 'Jordan'");
                # its type, file and line are what a developer needs first.
                data["exception_value"] = f"({data.get('exception_type', 'error')}: message hidden)"
        return data


# Request ids and JSON logs.
#
# Each request gets an id: the proxy's X-Request-ID when it looks like one, else a new
# one. It is sent back in the response's X-Request-ID, printed in every JSON log line
# written while the request is handled, and stored beside the arguments of any task the
# request queues, so the worker's lines about a handout email carry the same id as the
# click that asked for it.

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy's id looks like (nginx's $request_id, a UUID, a trace id); anything else
# is replaced, so a client cannot write arbitrary text into the logs.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+/=-]{8,128}\Z")
# URL parameters that are credentials: lines name the route instead of the path.
SECRET_URL_KWARGS = frozenset({"token", "uidb64", "signature"})
# Answered many times a minute by probes: logged only when something is wrong.
QUIET_VIEWS = frozenset({"healthz", "readyz", "health_queue", "metrics"})
# Extra attributes a JSON line may carry; any other ``extra=`` is left out, so
# nothing reaches the log by accident.
JSON_FIELDS = ("method", "path", "view", "status", "duration_ms")

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

request_logger = logging.getLogger("openhep.request")


def new_request_id() -> str:
    return uuid.uuid4().hex


def clean_request_id(value) -> str:
    """``value`` if it looks like a request id, else an empty string."""
    if isinstance(value, str) and SANE_REQUEST_ID.match(value):
        return value
    return ""


def current_request_id() -> str:
    return _request_id.get()


def loggable_path(request) -> str:
    """The request's path, or its route when a URL parameter is a credential."""
    match = getattr(request, "resolver_match", None)
    if match is not None and SECRET_URL_KWARGS & set(match.kwargs):
        return "/" + match.route
    return request.path


@contextmanager
def request_id_bound(value: str) -> Iterator[str]:
    token = _request_id.set(value)
    try:
        yield value
    finally:
        _request_id.reset(token)


class RequestIdMiddleware:
    """First in MIDDLEWARE: binds the request id for everything after it, answers with
    it, and logs one line per request (method, path, view, status, time taken).

    The line never holds the query string or the body (a search for a patient's name),
    and for URLs whose parameters are credentials (invitation and password reset links)
    it names the route, not the path."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = clean_request_id(request.META.get("HTTP_X_REQUEST_ID")) or new_request_id()
        request.request_id = request_id
        with request_id_bound(request_id):
            started = time.perf_counter()
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            self.log(request, response, time.perf_counter() - started)
        return response

    def log(self, request, response, seconds: float) -> None:
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match is not None else ""
        if view in QUIET_VIEWS and response.status_code < 400:
            return
        path = loggable_path(request)
        duration_ms = round(seconds * 1000, 1)
        request_logger.info(
            "%s %s %s %.1f ms",
            request.method,
            path,
            response.status_code,
            duration_ms,
            extra={
                "method": request.method,
                "path": path,
                "view": view,
                "status": response.status_code,
                "duration_ms": duration_ms,
            },
        )


def stamp_task(sender, instance, **kwargs) -> None:
    """``pre_save`` of a queued task (django-tasks-db): keep the id of the request (or
    task) that queued it beside its arguments; the worker logs under it
    (``request_id_of_task``). The task itself is called with its own arguments only."""
    request_id = current_request_id()
    args_kwargs = instance.args_kwargs
    if request_id and instance._state.adding and isinstance(args_kwargs, dict):
        instance.args_kwargs = {**args_kwargs, "request_id": request_id}


def request_id_of_task(db_task_result) -> str:
    """The id a worker logs a task's lines under: the queuing request's, else a new one."""
    args_kwargs = db_task_result.args_kwargs
    stored = args_kwargs.get("request_id") if isinstance(args_kwargs, dict) else None
    return clean_request_id(stored) or new_request_id()


def hidden_exception(exc_info) -> dict:
    """An exception for a log line: its type and where it was raised, not its message,
    which can quote what was typed (as the 500 reports above)."""
    exc_type, _value, tb = exc_info
    name = f"{exc_type.__module__}.{exc_type.__qualname__}" if exc_type else "unknown"
    trace = "".join(traceback.format_tb(tb)) if tb is not None else ""
    return {"type": name, "traceback": f"{trace}{name}: (message hidden)"}


# A patient page's address: its path is the patient's secret (prescriptions.links).
PROGRAM_PATH = re.compile(r"/p/[A-Za-z0-9-]{20,60}(?=[/?#\s\"']|$)")


def without_program_tokens(text: str) -> str:
    return PROGRAM_PATH.sub("/p/<token>", text)


class NoProgramTokensFilter(logging.Filter):
    """On every handler: a line that quotes a patient page's address (runserver's
    request lines, a library's warning) shows ``/p/<token>`` instead of the token."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/p/" in message:
            record.msg, record.args = without_program_tokens(message), None
        return True


def without_credentials(message: str, record: logging.LogRecord) -> str:
    """Django's lines about a response (``Forbidden: /path``) quote the path: a link
    whose path is a credential is named by its route instead."""
    request = getattr(record, "request", None)
    path = getattr(request, "path", None)
    if path and path in message:
        safe = loggable_path(request)
        if safe != path:
            return message.replace(path, safe)
    return message


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (UTC, e.g. 2026-11-30T13:45:00.123+00:00),
    ``level``, ``logger``, ``message``, ``request_id`` when there is one, the request
    fields of ``openhep.request`` lines, and ``exception`` (type and traceback, the
    message hidden)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": without_credentials(record.getMessage(), record),
        }
        # django.request's lines about a response are written after the middleware
        # has finished: the request they carry has the id.
        request_id = current_request_id() or getattr(
            getattr(record, "request", None), "request_id", ""
        )
        if request_id:
            entry["request_id"] = request_id
        for field in JSON_FIELDS:
            if field in record.__dict__:
                entry[field] = record.__dict__[field]
        if record.exc_info:
            entry["exception"] = hidden_exception(record.exc_info)
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


class NoPatientDataMailReporter(NoPatientDataReporter):
    """The 500 and failed-task emails to ``ADMINS``: also hides the exception's message
    when there is no request (a task that failed in the worker), and the path of a link
    that is a credential."""

    def __init__(self, request, *args, **kwargs):
        # A link whose path is a credential (an invitation) is shown by its route.
        if request is not None and loggable_path(request) != request.path:
            route = loggable_path(request)
            request = copy.copy(request)
            request.path = request.path_info = route
            request.META = {**request.META, "PATH_INFO": route}
        super().__init__(request, *args, **kwargs)

    def get_traceback_data(self):
        data = super().get_traceback_data()
        if data.get("exception_value") and self.filter.is_active(self.request):
            data["exception_value"] = f"({data.get('exception_type', 'error')}: message hidden)"
        return data


class NoPatientDataAdminEmailHandler(AdminEmailHandler):
    """Django's email to ADMINS, its subject (``Internal Server Error: /path``) without
    a credential in the path, and its report from ``NoPatientDataMailReporter``."""

    def __init__(self, *args, reporter_class=None, **kwargs):
        reporter_class = reporter_class or "openhep.logs.NoPatientDataMailReporter"
        super().__init__(*args, reporter_class=reporter_class, **kwargs)

    def emit(self, record):
        message = record.getMessage()
        safe = without_credentials(message, record)
        if safe != message:
            record = copy.copy(record)
            record.msg, record.args = safe, ()
        super().emit(record)


# Error reports to Sentry (SENTRY_DSN): the same rule as the emails, enforced twice:
# the SDK is told to collect nothing personal, and every event is cut down to what a
# developer needs (where, what type, which route) before it leaves.

SENTRY_REQUEST_KEPT = ("method",)
SENTRY_BREADCRUMB_KEPT = ("type", "category", "level", "message", "timestamp")


def sentry_before_send(event: dict, hint: dict) -> dict:
    """Strip an event of everything that may hold patient data: the request's body,
    query string, cookies, headers and URL (the route is in ``transaction``), local
    variables, exception messages, log parameters, ``extra`` and the user."""
    request = event.get("request")
    if isinstance(request, dict):
        event["request"] = {key: request[key] for key in SENTRY_REQUEST_KEPT if key in request}
    for key in ("user", "extra"):
        event.pop(key, None)
    for exception in (event.get("exception") or {}).get("values") or []:
        if exception.get("value"):
            exception["value"] = "(message hidden)"
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    for thread in (event.get("threads") or {}).get("values") or []:
        for frame in (thread.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        event["logentry"] = {"message": without_program_tokens(logentry.get("message", ""))}
    if event.get("message") and logentry:
        event["message"] = event["logentry"]["message"]
    breadcrumbs = event.get("breadcrumbs")
    if isinstance(breadcrumbs, dict):
        breadcrumbs["values"] = [
            sentry_before_breadcrumb(crumb, {}) for crumb in breadcrumbs.get("values") or []
        ]
        breadcrumbs["values"] = [crumb for crumb in breadcrumbs["values"] if crumb]
    return event


def sentry_before_breadcrumb(crumb: dict, hint: dict) -> dict | None:
    """Only log lines (tested to hold no patient data) go along as breadcrumbs, without
    their parameters; SQL, HTTP and cache breadcrumbs carry values and are dropped."""
    if crumb.get("type") != "log":
        return None
    kept = {key: crumb[key] for key in SENTRY_BREADCRUMB_KEPT if key in crumb}
    if isinstance(kept.get("message"), str):
        kept["message"] = without_program_tokens(kept["message"])
    return kept


def sentry_options(*, dsn: str, environment: str) -> dict:
    return {
        "dsn": dsn,
        "environment": environment,
        "send_default_pii": False,
        "include_local_variables": False,
        "max_request_body_size": "never",
        "auto_session_tracking": False,
        "before_send": sentry_before_send,
        "before_breadcrumb": sentry_before_breadcrumb,
    }


def sentry_init(*, dsn: str, environment: str) -> None:
    """Report errors to Sentry (called at start-up when SENTRY_DSN is set). Tracing and
    profiling stay off: they would send every request's details."""
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        **sentry_options(dsn=dsn, environment=environment),
        integrations=[DjangoIntegration(transaction_style="url")],
    )
