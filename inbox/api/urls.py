from django.urls import path

from inbox.api.routes import api

urlpatterns = [path("api/v1/", api.urls)]
