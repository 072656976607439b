import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openhep.settings")
application = get_wsgi_application()

# A production process does not start on a developer's defaults (openhep/checks.py).
from openhep.checks import refuse_unsafe_production  # noqa: E402

refuse_unsafe_production()

# Fonts and the handout stylesheet are prepared once per worker, at start-up.
from prescriptions.handouts import warm_up  # noqa: E402

warm_up()
