from django.urls import path

from exercises import views

app_name = "exercises"
urlpatterns = [
    path("", views.ExerciseListView.as_view(), name="list"),
    path("new/", views.ClinicExerciseCreateView.as_view(), name="create"),
    path("<slug:slug>/", views.ExerciseDetailView.as_view(), name="detail"),
    path("<slug:slug>/edit/", views.ClinicExerciseUpdateView.as_view(), name="edit"),
    path("<slug:slug>/copy/", views.ExerciseCopyView.as_view(), name="copy"),
    path("<slug:slug>/favourite/", views.FavouriteView.as_view(), name="favourite"),
]
