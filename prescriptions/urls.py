from django.urls import path

from prescriptions import (
    autosave_views,
    draft_views,
    library_views,
    questionnaire_views,
    template_views,
    views,
)

app_name = "prescriptions"
urlpatterns = [
    path(
        "add/<slug:slug>/",
        library_views.AddFromLibraryView.as_view(),
        name="add_from_library",
    ),
    path("<int:pk>/", views.PrescriptionDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.PrescriptionBuilderView.as_view(), name="edit"),
    path("<int:pk>/autosave/", autosave_views.AutosaveView.as_view(), name="autosave"),
    path("<int:pk>/issue/", views.PrescriptionIssueView.as_view(), name="issue"),
    path("<int:pk>/delete/", draft_views.DraftDeleteView.as_view(), name="delete_draft"),
    path(
        "<int:pk>/template-preview/",
        template_views.TemplatePreviewView.as_view(),
        name="template_preview",
    ),
    path("<int:pk>/new-version/", views.PrescriptionNewVersionView.as_view(), name="new_version"),
    path("<int:pk>/adjust/", views.PrescriptionAdjustView.as_view(), name="adjust"),
    path("<int:pk>/handout.pdf", views.HandoutView.as_view(), name="handout"),
    path("<int:pk>/handout/state/", views.HandoutStateView.as_view(), name="handout_state"),
    path("<int:pk>/handout/retry/", views.HandoutRetryView.as_view(), name="handout_retry"),
    path("<int:pk>/email/", views.EmailHandoutView.as_view(), name="email"),
    path(
        "<int:pk>/deliveries/<int:delivery_pk>/retry/",
        views.DeliveryRetryView.as_view(),
        name="delivery_retry",
    ),
    path(
        "<int:pk>/questionnaires/",
        questionnaire_views.ScheduleAddView.as_view(),
        name="questionnaire_add",
    ),
    path(
        "<int:pk>/questionnaires/<int:schedule_pk>/stop/",
        questionnaire_views.ScheduleStopView.as_view(),
        name="questionnaire_stop",
    ),
]
