from django.urls import path, register_converter

from patientpage import questionnaire_views, reminder_views, views


class TokenConverter:
    """A token as printed, or as typed from paper (capitals, dashes between groups)."""

    regex = "[A-Za-z0-9-]{20,60}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(TokenConverter, "token")

app_name = "patientpage"

urlpatterns = [
    path("sw.js", views.service_worker, name="service_worker"),
    # Before the token routes: the signed code is not a program token.
    path("unsubscribe/<str:code>/", reminder_views.unsubscribe, name="unsubscribe"),
    path("<token:token>/", views.page, name="page"),
    path("<token:token>/check/", views.check, name="check"),
    path("<token:token>/session/", views.session, name="session"),
    path("<token:token>/manifest.webmanifest", views.manifest, name="manifest"),
    path("<token:token>/reminders/", reminder_views.reminders_page, name="reminders"),
    path("<token:token>/calendar.ics", reminder_views.calendar_file, name="calendar"),
    path(
        "<token:token>/questionnaires/<int:pk>/",
        questionnaire_views.questionnaire,
        name="questionnaire",
    ),
]
