"""Turn an ``EMAIL_URL`` into a Django 6.1 ``MAILERS`` entry.

Accepted forms::

    smtp://user:pass@host:587/?tls=1      STARTTLS
    smtps://user:pass@host:465/           implicit TLS
    smtp://127.0.0.1:1025/                plain, no auth (local relay)
    console:                              print messages to stdout
    file:///var/lib/openhep/mail          one .log file per message
    locmem:                               Django's in-memory outbox (tests)
"""

from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BACKENDS = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "smtps": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
}
TRUE = {"1", "true", "yes", "on"}


def mailer_from_url(url: str, *, timeout: int = 15) -> dict:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in BACKENDS:
        raise ImproperlyConfigured(
            f"EMAIL_URL must start with one of {', '.join(sorted(BACKENDS))}: (got {scheme!r})."
        )
    config: dict = {"BACKEND": BACKENDS[scheme]}
    if scheme == "file":
        if not parts.path:
            raise ImproperlyConfigured("EMAIL_URL file:// needs a folder, e.g. file:///tmp/mail")
        config["OPTIONS"] = {"file_path": unquote(parts.path)}
    elif scheme in ("smtp", "smtps"):
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        if not parts.hostname:
            raise ImproperlyConfigured("EMAIL_URL smtp:// needs a host, e.g. smtp://mail:587/")
        options = {
            "host": parts.hostname,
            "port": parts.port or (465 if scheme == "smtps" else 25),
            "timeout": int(query.get("timeout", timeout)),
            "use_ssl": scheme == "smtps" or query.get("ssl", "").lower() in TRUE,
            "use_tls": query.get("tls", "").lower() in TRUE,
        }
        if options["use_ssl"] and options["use_tls"]:
            raise ImproperlyConfigured("EMAIL_URL: choose tls=1 (STARTTLS) or smtps://, not both.")
        if parts.username:
            options["username"] = unquote(parts.username)
            options["password"] = unquote(parts.password or "")
        config["OPTIONS"] = options
    return config
