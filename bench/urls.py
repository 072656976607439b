"""The app's URLs plus two trivial views, the floors of the benchmarks.

/bench/ok runs no query of its own, so it measures what Django itself costs per
request (URL routing and the app's middleware, including loading and saving the
session the load test sends). /bench/select1 runs one ``SELECT 1`` through the
same middleware: what /healthz measured before it became a liveness probe that
asks nothing of the database and is answered before the session and the user.
"""

from django.db import connection
from django.http import HttpResponse
from django.urls import path

from openhep.urls import urlpatterns as app_urlpatterns


def ok(request):
    return HttpResponse("ok", content_type="text/plain")


def select1(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/ok", ok, name="bench_ok"),
    path("bench/select1", select1, name="bench_select1"),
    *app_urlpatterns,
]
