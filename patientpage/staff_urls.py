"""The staff side of the loop, under the pages it belongs to (mounted at the site root)."""

from django.urls import path

from patientpage import outcome_staff_views, staff_views

app_name = "loop"

urlpatterns = [
    path(
        "prescriptions/<int:pk>/link/off/",
        staff_views.LinkTurnOffView.as_view(),
        name="link_off",
    ),
    path(
        "prescriptions/<int:pk>/link/card.pdf",
        staff_views.LinkCardView.as_view(),
        name="link_card",
    ),
    path(
        "prescriptions/<int:pk>/link/new/",
        staff_views.LinkRenewView.as_view(),
        name="link_renew",
    ),
    path(
        "prescriptions/<int:pk>/sessions/paper/",
        staff_views.PaperSessionView.as_view(),
        name="paper_session",
    ),
    path("calls/", staff_views.CallsView.as_view(), name="calls"),
    path(
        "patients/<int:patient_pk>/follow-ups/handled/",
        staff_views.FollowUpsHandledView.as_view(),
        name="followups_handled",
    ),
    # Outcome measures, staff side: a questionnaire answered on paper.
    path(
        "patients/<int:patient_pk>/questionnaires/paper/",
        outcome_staff_views.PaperQuestionnaireView.as_view(),
        name="paper_questionnaire",
    ),
    path(
        "patients/<int:patient_pk>/questionnaires/<int:questionnaire_pk>/blank.pdf",
        outcome_staff_views.BlankQuestionnaireView.as_view(),
        name="questionnaire_blank",
    ),
]
