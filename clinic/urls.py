from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from clinic import views
from exercises.views import video_redirect
from prescriptions.views import PrescriptionCreateView

patient_patterns = (
    [
        path("", views.PatientListView.as_view(), name="list"),
        path("new/", views.PatientCreateView.as_view(), name="create"),
        path("<int:pk>/", views.PatientDetailView.as_view(), name="detail"),
        path("<int:pk>/edit/", views.PatientUpdateView.as_view(), name="edit"),
        path("<int:pk>/consent/", views.PatientConsentView.as_view(), name="consent"),
        path("<int:pk>/archive/", views.PatientArchiveView.as_view(), name="archive"),
        path(
            "<int:patient_pk>/prescriptions/new/",
            PrescriptionCreateView.as_view(),
            name="prescription_create",
        ),
    ],
    "patients",
)

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("clinic/settings/", views.ClinicSettingsView.as_view(), name="clinic_settings"),
    path("clinic/deliveries/", views.DeliveryLogView.as_view(), name="delivery_log"),
    path("patients/", include(patient_patterns)),
    path("exercises/", include("exercises.urls")),
    path("prescriptions/", include("prescriptions.urls")),
    path("v/<slug:slug>", video_redirect, name="video"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    # Development only; in production the web server or object storage serves media.
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
