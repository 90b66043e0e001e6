"""Users, teams and roles; agents' shifts and capacity."""

urlpatterns: list = []
