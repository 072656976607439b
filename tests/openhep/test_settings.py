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
        "SITE_URL": "https://hep.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
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


def production(tmp_path, **changes) -> dict:
    """The environment of a production process, with ``changes`` (None removes)."""
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "hep.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "DJANGO_SETTINGS_MODULE": "openhep.settings",
        "STATIC_ROOT": str(tmp_path / "static"),
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    env.update(changes)
    return {name: value for name, value in env.items() if value is not None}


def run_python(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )


START_WEB = "import openhep.wsgi; print('started')"


@pytest.mark.parametrize(
    ("changes", "refusal", "worker_refusal"),
    [
        ({"DATABASE_URL": None}, "DATABASE_URL is not set", "DATABASE_URL is not set"),
        (
            {"TASKS_BACKEND": "django.tasks.backends.immediate.ImmediateBackend"},
            "TASKS_BACKEND is the immediate backend",
            # The worker has nothing to run without the database backend.
            "is not a database backend",
        ),
    ],
)
def test_production_refuses_to_start_on_a_developers_defaults(
    tmp_path, changes, refusal, worker_refusal
):
    web = run_python(START_WEB, production(tmp_path, **changes))
    assert web.returncode != 0 and refusal in web.stderr and "started" not in web.stdout
    worker = subprocess.run(
        [sys.executable, "manage.py", "db_worker", "--batch"],
        env=production(tmp_path, **changes),
        capture_output=True,
        text=True,
        check=False,
    )
    assert worker.returncode != 0 and worker_refusal in worker.stderr
    check = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        env=production(tmp_path, **changes),
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode != 0 and refusal in check.stderr


@pytest.mark.parametrize(
    "allowed",
    [
        {"DATABASE_URL": None, "ALLOW_SQLITE_IN_PRODUCTION": "1"},
        {
            "TASKS_BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
            "ALLOW_IMMEDIATE_TASKS": "1",
        },
        {"DEBUG": "1"},
    ],
)
def test_told_in_so_many_words_production_starts(tmp_path, allowed):
    web = run_python(START_WEB, production(tmp_path, **allowed))
    assert web.returncode == 0 and "started" in web.stdout, web.stderr


def test_every_secret_can_come_from_a_file(tmp_path):
    files = {
        "DATABASE_URL": "postgres://openhep:pa%24%24@db.internal:5432/openhep",
        "EMAIL_URL": "smtp://mailer:s3cret@smtp.internal:587/?tls=1",
        "CACHE_URL": "redis://:cache-pass@cache.internal:6379/1",
        "S3_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "S3_SECRET_ACCESS_KEY": "bucket-secret",
    }
    env = production(tmp_path, DATABASE_URL=None, MEDIA_STORAGE="s3", S3_BUCKET="media")
    for name, value in files.items():
        path = tmp_path / name.lower()
        path.write_text(value + "\n")
        env[f"{name}_FILE"] = str(path)
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['PASSWORD'], s.DATABASES['default']['HOST'], "
        "s.MAILERS['default']['OPTIONS']['password'], s.CACHES['default']['LOCATION'], "
        "s.STORAGES['default']['OPTIONS']['access_key'], "
        "s.STORAGES['public']['OPTIONS']['secret_key'])"
    )
    result = run_python(code, env)
    assert result.stdout.split() == [
        "pa$$",
        "db.internal",
        "s3cret",
        "redis://:cache-pass@cache.internal:6379/1",
        "AKIDEXAMPLE",
        "bucket-secret",
    ], result.stderr


def test_media_in_a_bucket_is_split_and_the_csp_follows_it(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "d, p = s.STORAGES['default']['OPTIONS'], s.STORAGES['public']['OPTIONS']; "
        "print(d['location'], d['default_acl'], d['querystring_auth'], d['querystring_expire']); "
        "print(p['location'], p['default_acl'], p['querystring_auth']); "
        "print(*s.SECURE_CSP['img-src'])"
    )
    env = production(
        tmp_path, MEDIA_STORAGE="s3", S3_BUCKET="media", S3_ENDPOINT_URL="https://s3.example.net"
    )
    lines = run_python(code, env).stdout.splitlines()
    assert lines == [
        "private private True 60",
        "public public-read False",
        "'self' data: https://s3.example.net",
    ]
    env["S3_PUBLIC_DOMAIN"] = "media.clinic.example"
    assert run_python(code, env).stdout.splitlines()[2].endswith("https://media.clinic.example")
    env["MEDIA_STORAGE"] = "ftp"
    refused = run_python(code, env)
    assert refused.returncode != 0 and "MEDIA_STORAGE must be local or s3" in refused.stderr


def test_server_side_cursors_can_be_turned_off_for_a_pooler(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['DISABLE_SERVER_SIDE_CURSORS'])"
    )
    assert run_python(code, production(tmp_path)).stdout.strip() == "False"
    pooled = production(tmp_path, DISABLE_SERVER_SIDE_CURSORS="1")
    assert run_python(code, pooled).stdout.strip() == "True"


def test_check_deploy_warns_without_a_site_url(tmp_path):
    def deploy_check(env):
        return subprocess.run(
            [sys.executable, "manage.py", "check", "--deploy"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    assert "openhep.W001" in deploy_check(production(tmp_path)).stderr
    with_site = production(tmp_path, SITE_URL="https://hep.example.org")
    assert "openhep.W001" not in deploy_check(with_site).stderr
