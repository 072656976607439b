"""compose.yaml: the services, the order they start in, where secrets come from
and which volumes each sees. A structural check (PyYAML); `docker compose config`
is not needed to run it."""

import pytest

from tests.deploy.conftest import DEPLOY

yaml = pytest.importorskip("yaml")

COMPOSE = yaml.safe_load((DEPLOY.parent / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
APP_ROLES = {"migrate": "migrate", "web": "web", "worker": "worker", "scheduler": "scheduler"}


def mounts(service: str) -> dict[str, str]:
    """Target path -> "volume[:ro]" for a service's volumes."""
    found = {}
    for entry in SERVICES[service].get("volumes", []):
        source, target, *options = entry.split(":")
        found[target] = source + (":ro" if "ro" in options else "")
    return found


def test_the_services():
    assert set(SERVICES) == {"db", "migrate", "web", "worker", "scheduler", "proxy"}
    for service, role in APP_ROLES.items():
        assert SERVICES[service]["command"] == [role]
        assert SERVICES[service]["build"]["dockerfile"] == "Containerfile"


def test_migrations_run_once_before_the_app_starts():
    migrate = SERVICES["migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}
    for service in ("web", "worker", "scheduler"):
        depends = SERVICES[service]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}
        assert depends["db"] == {"condition": "service_healthy"}
    assert SERVICES["proxy"]["depends_on"] == {"web": {"condition": "service_healthy"}}
    assert "pg_isready" in SERVICES["db"]["healthcheck"]["test"]
    assert "/opt/openhep/deploy/healthcheck.py" in SERVICES["web"]["healthcheck"]["test"]


def test_secrets_come_from_files_never_from_the_environment():
    for service in APP_ROLES:
        environment = SERVICES[service]["environment"]
        for name in ("SECRET_KEY", "DATABASE_URL", "EMAIL_URL"):
            assert name not in environment
            assert environment[f"{name}_FILE"] == f"/run/secrets/{name.lower()}"
            assert name.lower() in SERVICES[service]["secrets"]
        assert environment["DEBUG"] == "0"
        assert environment["TASKS_BACKEND"] == "django_tasks_db.DatabaseBackend"
    database = SERVICES["db"]
    assert database["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/db_password"
    assert "POSTGRES_PASSWORD" not in database["environment"]
    for name, secret in COMPOSE["secrets"].items():
        assert secret == {"file": f"./secrets/{name}"}


def test_the_proxy_and_the_app_agree():
    web, proxy = SERVICES["web"]["environment"], SERVICES["proxy"]["environment"]
    assert web["MAX_REQUEST_MB"] == proxy["MAX_REQUEST_MB"]
    assert web["CLINIC_VIDEO_MAX_MB"] == proxy["CLINIC_VIDEO_MAX_MB"]
    assert web["MEDIA_ACCEL_REDIRECT"] == "/_protected/"
    assert web["PROXY_COUNT"] == "1"
    assert proxy["OPENHEP_UPSTREAM"] == "web:8000"
    assert proxy["OPENHEP_MEDIA_DIR"] == web["MEDIA_ROOT"]
    assert SERVICES["migrate"]["environment"]["STATIC_EXPORT_DIR"] == proxy["OPENHEP_STATIC_DIR"]
    assert "443:443" in SERVICES["proxy"]["ports"]


def test_volumes():
    media = "/srv/openhep/media"
    for service in APP_ROLES:
        assert mounts(service)[media] == "media", service
    assert mounts("proxy")[media] == "media:ro"
    assert mounts("migrate")["/srv/openhep/static"] == "static"
    assert mounts("proxy")["/srv/openhep/static"] == "static:ro"
    assert mounts("proxy")["/etc/caddy/Caddyfile"] == "./deploy/Caddyfile:ro"
    assert mounts("scheduler")["/srv/openhep/backups"] == "backups"
    assert "/var/lib/postgresql/data" in mounts("db")
    named = {source.split(":")[0] for s in SERVICES for source in mounts(s).values()}
    assert {name for name in named if not name.startswith(".")} <= set(COMPOSE["volumes"])


def test_no_port_but_the_proxys_is_published():
    assert [name for name, service in SERVICES.items() if "ports" in service] == ["proxy"]
