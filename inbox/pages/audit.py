"""The audit log: every activity row, filterable."""

urlpatterns: list = []
