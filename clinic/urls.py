"""Sign-in and accounts, and the clinic's own pages (settings, staff, audit trail).

URL names are global (``login``, ``staff``…), as Django's auth views expect."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from clinic import account_views, views

urlpatterns = [
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
        account_views.PasswordResetView.as_view(),
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
        "accounts/two-factor/recovery-codes/",
        account_views.RecoveryCodesView.as_view(),
        name="two_factor_recovery_codes",
    ),
    path(
        "accounts/invitation/<str:token>/",
        account_views.InvitationAcceptView.as_view(),
        name="invitation_accept",
    ),
    path("clinic/settings/", views.ClinicSettingsView.as_view(), name="clinic_settings"),
    path("clinic/staff/", views.StaffView.as_view(), name="staff"),
    path("clinic/staff/<int:pk>/", views.MemberActionView.as_view(), name="member_action"),
    path(
        "clinic/invitations/<int:pk>/",
        views.InvitationActionView.as_view(),
        name="invitation_action",
    ),
    path("clinic/audit/", views.AuditLogView.as_view(), name="audit_log"),
]
