"""The app's URLs, collected from each area's ``urls.py``.

Two namespaces, as before the areas: ``inbox`` for the agents' inbox screen (this module's
``urlpatterns``) and ``pages`` for the lead and admin pages (:data:`pages`, included by
``webcare.urls``).
"""

from django.urls import include, path

from inbox.api import views as api_pages
from inbox.audit import urls as audit
from inbox.customers import urls as customers
from inbox.engines import urls as engines
from inbox.incidents import urls as incidents
from inbox.media import urls as media
from inbox.people import urls as people
from inbox.replies import urls as replies
from inbox.reports import urls as reports
from inbox.screen import urls as screen

app_name = "inbox"

# What customers sent, served through a permission-checked view (inbox/media/views.py).
urlpatterns = [*screen.urlpatterns, *customers.urlpatterns, *media.urlpatterns]

pages = (
    [
        path("", include(area.urlpatterns))
        for area in (reports, engines, replies, incidents, people, audit, api_pages)
    ],
    "pages",
)
