from django.urls import path

from prescriptions.views import PrescriptionCreateView
from records import outcome_views, views

app_name = "patients"

urlpatterns = [
    path("", views.PatientListView.as_view(), name="list"),
    path("new/", views.PatientCreateView.as_view(), name="create"),
    path("<int:pk>/", views.PatientDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.PatientUpdateView.as_view(), name="edit"),
    path("<int:pk>/consent/", views.PatientConsentView.as_view(), name="consent"),
    path("<int:pk>/archive/", views.PatientArchiveView.as_view(), name="archive"),
    path("<int:pk>/export/", views.PatientExportView.as_view(), name="export"),
    path("<int:pk>/erase/", views.PatientEraseView.as_view(), name="erase"),
    path(
        "<int:pk>/questionnaires/<int:response_pk>/",
        outcome_views.ResponseDetailView.as_view(),
        name="response",
    ),
    path(
        "<int:patient_pk>/prescriptions/new/",
        PrescriptionCreateView.as_view(),
        name="prescription_create",
    ),
]
