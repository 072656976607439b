"""The whole site's URLs: each app brings its own, the project puts them together."""

from django.contrib import admin
from django.urls import include, path

from exercises.media_views import clinic_media_link
from exercises.views import video_redirect
from openhep import health
from openhep.views import public_media
from prescriptions.preset_views import DosePresetsView
from prescriptions.views import DeliveryLogView
from records.views import DashboardView

urlpatterns = [
    path("", DashboardView.as_view(), name="dashboard"),
    path("", include("clinic.urls")),
    path("clinic/deliveries/", DeliveryLogView.as_view(), name="delivery_log"),
    path("clinic/dose-presets/", DosePresetsView.as_view(), name="dose_presets"),
    path("clinic/", include("outcomes.urls")),
    path("patients/", include("records.urls")),
    path("exercises/", include("exercises.urls")),
    path("prescriptions/", include("prescriptions.urls")),
    path("p/", include("patientpage.urls")),
    path("", include("patientpage.staff_urls")),
    path("v/<slug:slug>", video_redirect, name="video"),
    path("v/<slug:slug>/<str:signature>", video_redirect, name="video_signed"),
    # A clinic's own video for an exercise (exercises.ClinicMedia), under its key.
    path("m/<str:key>", clinic_media_link, name="clinic_media"),
    # Monitoring (openhep/health.py): answered before host checks by its middleware.
    path("healthz", health.healthz, name="healthz"),
    path("healthz/queue", health.queue, name="health_queue"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    # Only the public part of media (pictures, logos); see openhep.views.public_media.
    path("media/<path:path>", public_media, name="media"),
]
