"""URLs of the shared core: the admins' and leads' start page."""

from django.urls import include, path

from inbox.core import views

urlpatterns = [path("settings/", include(views.urlpatterns))]
