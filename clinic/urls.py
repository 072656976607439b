from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, reverse_lazy

from clinic import account_views, views
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
        path("<int:pk>/export/", views.PatientExportView.as_view(), name="export"),
        path("<int:pk>/erase/", views.PatientEraseView.as_view(), name="erase"),
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
        account_views.LoginView.as_view(),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", account_views.AccountView.as_view(), name="account"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("password_change_done")),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "accounts/password-reset/",
        auth_views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        account_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(
        "accounts/two-factor/setup/",
        account_views.TwoFactorSetupView.as_view(),
        name="two_factor_setup",
    ),
    path(
        "accounts/two-factor/verify/",
        account_views.TwoFactorVerifyView.as_view(),
        name="two_factor_verify",
    ),
    path(
        "accounts/two-factor/remove/",
        account_views.TwoFactorRemoveView.as_view(),
        name="two_factor_remove",
    ),
    path(
        "accounts/invitation/<str:token>/",
        account_views.InvitationAcceptView.as_view(),
        name="invitation_accept",
    ),
    path("clinic/settings/", views.ClinicSettingsView.as_view(), name="clinic_settings"),
    path("clinic/deliveries/", views.DeliveryLogView.as_view(), name="delivery_log"),
    path("clinic/staff/", views.StaffView.as_view(), name="staff"),
    path("clinic/staff/<int:pk>/", views.MemberActionView.as_view(), name="member_action"),
    path(
        "clinic/invitations/<int:pk>/",
        views.InvitationActionView.as_view(),
        name="invitation_action",
    ),
    path("clinic/audit/", views.AuditLogView.as_view(), name="audit_log"),
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
