"""Every lead and admin page, one module an area."""

from django.urls import include, path

from . import audit, canned, dashboard, hours, incidents, people, profile, review, rules, start

app_name = "pages"

urlpatterns = [
    path("settings/", include(start.urlpatterns)),
    path("settings/rules/", include(rules.urlpatterns)),
    path("settings/hours/", include(hours.urlpatterns)),
    path("review/", include(review.urlpatterns)),
    path("incidents/", include(incidents.urlpatterns)),
    path("dashboard/", include(dashboard.urlpatterns)),
    path("settings/people/", include(people.urlpatterns)),
    path("settings/audit/", include(audit.urlpatterns)),
    path("settings/canned/", include(canned.urlpatterns)),
    path("profile/", include(profile.urlpatterns)),
]
