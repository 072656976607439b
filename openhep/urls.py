"""The whole site's URLs: each app brings its own, the project puts them together."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from exercises.views import video_redirect
from openhep.views import healthz
from prescriptions.views import DeliveryLogView
from records.views import DashboardView

urlpatterns = [
    path("", DashboardView.as_view(), name="dashboard"),
    path("", include("clinic.urls")),
    path("clinic/deliveries/", DeliveryLogView.as_view(), name="delivery_log"),
    path("patients/", include("records.urls")),
    path("exercises/", include("exercises.urls")),
    path("prescriptions/", include("prescriptions.urls")),
    path("v/<slug:slug>", video_redirect, name="video"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    # Development only; in production the web server or object storage serves media.
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
