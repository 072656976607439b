"""The app's URLs plus one trivial view, the floor for the load test.

/healthz runs ``SELECT 1``; /bench/ok runs no query of its own, so it measures
what Django itself costs per request (URL routing and the app's middleware,
including loading and saving the session the load test sends).
"""

from django.http import HttpResponse
from django.urls import path

from openhep.urls import urlpatterns as app_urlpatterns


def ok(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/ok", ok, name="bench_ok"), *app_urlpatterns]
