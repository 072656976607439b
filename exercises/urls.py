from django.urls import path

from exercises import media_views, views

app_name = "exercises"
urlpatterns = [
    path("", views.ExerciseListView.as_view(), name="list"),
    path("new/", views.ClinicExerciseCreateView.as_view(), name="create"),
    path("<slug:slug>/", views.ExerciseDetailView.as_view(), name="detail"),
    path("<slug:slug>/edit/", views.ClinicExerciseUpdateView.as_view(), name="edit"),
    path("<slug:slug>/copy/", views.ExerciseCopyView.as_view(), name="copy"),
    path("<slug:slug>/favourite/", views.FavouriteView.as_view(), name="favourite"),
]
urlpatterns += [
    path("<slug:slug>/media/photo/", media_views.ClinicPhotoAddView.as_view(), name="media_photo"),
    path(
        "<slug:slug>/media/video/", media_views.ClinicVideoUploadView.as_view(), name="media_video"
    ),
    path("<slug:slug>/media/link/", media_views.ClinicVideoLinkView.as_view(), name="media_link"),
    path(
        "<slug:slug>/media/<int:pk>/",
        media_views.ClinicMediaFileView.as_view(),
        name="media_file",
    ),
    path(
        "<slug:slug>/media/<int:pk>/remove/",
        media_views.ClinicMediaRemoveView.as_view(),
        name="media_remove",
    ),
]
