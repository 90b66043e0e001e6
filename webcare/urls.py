from django.contrib import admin
from django.urls import include, path

from inbox import urls as inbox_urls

from . import redirects, views

urlpatterns = [
    path("", include("inbox.urls")),
    path("", include("inbox.api.urls")),
    path("", include("channels.urls")),
    path("", include(inbox_urls.pages)),
    path("login/", redirects.LoginView.as_view(), name="login"),
    path("logout/", redirects.LogoutView.as_view(), name="logout"),
    path("healthz", views.healthz, name="healthz"),
    # Django's language switch, its redirect target checked like every other (webcare.redirects).
    path("i18n/setlang/", redirects.set_language, name="set_language"),
    path("django-admin/", admin.site.urls),
]
