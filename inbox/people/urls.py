"""URLs of the people pages (users, teams, shifts) and everyone's own profile."""

from django.urls import include, path

from inbox.people import profile_views, views

urlpatterns = [
    path("settings/people/", include(views.urlpatterns)),
    path("profile/", include(profile_views.urlpatterns)),
]
