"""URLs of the leads' overview pages: the start page and the dashboard."""

from django.urls import include, path

from inbox.reports import start_views, views

urlpatterns = [
    path("settings/", include(start_views.urlpatterns)),
    path("dashboard/", include(views.urlpatterns)),
]
