"""The app's own settings for benchmarking, with three changes and nothing else.

Every bench process (in-process measurements, the cold-start and memory
workers, gunicorn) runs with these, so they all see the same configuration.
"""

from openhep.settings import *  # noqa: F403
from openhep.settings import OPENHEP_MAX_ITEMS, STORAGES

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

# The render rows go up to a 50-exercise handout, above the app's default limit
# on a program's length (MAX_ITEMS_PER_PROGRAM, 30): the bench measures what a
# clinic that raised it would see.
OPENHEP_MAX_ITEMS = max(OPENHEP_MAX_ITEMS, 50)
