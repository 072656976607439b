import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openhep.settings")
application = get_wsgi_application()

# Fonts and the handout stylesheet are prepared once per worker, at start-up.
from prescriptions.handouts import warm_up  # noqa: E402

warm_up()
