"""The app's own settings for benchmarking, with two changes and nothing else.

Every bench process (in-process measurements, the cold-start and memory
workers, gunicorn) runs with these, so they all see the same configuration.
"""

from openhep.settings import *  # noqa: F403
from openhep.settings import STORAGES

# The pages are measured with DEBUG off, as in production, so {% static %} needs
# a manifest. The production backend (WhiteNoise's compressed manifest) also
# gzips and brotlis every file, which takes ~25 s on two cores; the page timings
# never fetch static files, so the uncompressed manifest backend (same hashed
# URLs, same lookups per {% static %}) is equivalent here and takes ~1 s.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}

# The app's URLs plus /bench/ok, the load test's floor (see bench/urls.py).
ROOT_URLCONF = "bench.urls"
