"""The whole site's URLs: each app brings its own, the project puts them together."""

from django.contrib import admin
from django.urls import include, path

from exercises.views import video_redirect
from openhep.views import healthz, public_media
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
    path("v/<slug:slug>/<str:signature>", video_redirect, name="video_signed"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    # Only the public part of media (pictures, logos); see openhep.views.public_media.
    path("media/<path:path>", public_media, name="media"),
]
