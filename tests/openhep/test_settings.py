import secrets
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from openhep.mailers import mailer_from_url


def test_smtp_url_with_starttls_and_credentials():
    config = mailer_from_url("smtp://user%40x:p%2Fss@mail.example:587/?tls=1", timeout=9)
    assert config["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert config["OPTIONS"] == {
        "host": "mail.example",
        "port": 587,
        "timeout": 9,
        "use_ssl": False,
        "use_tls": True,
        "username": "user@x",
        "password": "p/ss",
    }


def test_smtps_url_uses_implicit_tls_on_465():
    options = mailer_from_url("smtps://mail.example")["OPTIONS"]
    assert (options["port"], options["use_ssl"], options["use_tls"]) == (465, True, False)


def test_console_and_file_urls():
    assert mailer_from_url("console:")["BACKEND"].endswith("console.EmailBackend")
    config = mailer_from_url("file:///tmp/openhep-mail")
    assert config["OPTIONS"] == {"file_path": "/tmp/openhep-mail"}


@pytest.mark.parametrize("url", ["http://mail.example", "smtp:///", "file://", "smtps://h/?tls=1"])
def test_bad_email_urls_are_refused_clearly(url):
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL"):
        mailer_from_url(url)


def test_production_without_secret_key_refuses_to_start(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "0",
        "SECRET_KEY": "",
        "DJANGO_SETTINGS_MODULE": "openhep.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_secret_key_can_come_from_a_file(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("from-a-file-0123456789\n")
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "0",
        "SECRET_KEY_FILE": str(key_file),
        "DJANGO_SETTINGS_MODULE": "openhep.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup();"
            " from django.conf import settings; print(settings.SECRET_KEY)",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.strip() == "from-a-file-0123456789", result.stderr


def test_production_settings_pass_the_deploy_check(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "hep.example.org",
        "EMAIL_URL": "smtp://mail.example.org:587/?tls=1",
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        "DJANGO_SETTINGS_MODULE": "openhep.settings",
        "STATIC_ROOT": str(tmp_path / "static"),
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_pages_carry_security_headers(client, db, settings):
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_passwords_are_hashed_with_argon2(db, django_user_model, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    user = django_user_model.objects.create_user("a@clinic.example", "a-long-password-1")
    assert user.password.startswith("argon2")


def test_plain_http_goes_to_https_except_the_health_check(db, settings):
    from django.test import Client

    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    response = client.get("/accounts/login/")
    assert response.status_code == 301 and response.url.startswith("https://")
    assert client.get("/healthz").status_code == 200
