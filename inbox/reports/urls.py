"""URLs of the leads' dashboard."""

from django.urls import include, path

from inbox.reports import views

urlpatterns = [path("dashboard/", include(views.urlpatterns))]
