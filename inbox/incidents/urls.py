"""URLs of the incidents pages."""

from django.urls import include, path

from inbox.incidents import views

urlpatterns = [path("incidents/", include(views.urlpatterns))]
