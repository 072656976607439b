"""The clinic's questionnaires and outcomes report (mounted under ``clinic/``)."""

from django.urls import path

from outcomes import views

app_name = "outcomes"

urlpatterns = [
    path("questionnaires/", views.QuestionnaireListView.as_view(), name="questionnaires"),
    path(
        "questionnaires/import/",
        views.QuestionnaireImportView.as_view(),
        name="questionnaire_import",
    ),
    path(
        "questionnaires/<int:pk>/definition.json",
        views.QuestionnaireDefinitionView.as_view(),
        name="questionnaire_definition",
    ),
    path(
        "questionnaires/<int:pk>/fhir.json",
        views.QuestionnaireFhirView.as_view(),
        name="questionnaire_fhir",
    ),
    path(
        "questionnaires/<int:pk>/active/",
        views.QuestionnaireActiveView.as_view(),
        name="questionnaire_active",
    ),
    path("outcomes/", views.OutcomesReportView.as_view(), name="report"),
    path("outcomes.csv", views.OutcomesReportCsvView.as_view(), name="report_csv"),
]
