"""An agent's own settings: signature, language, time zone."""

urlpatterns: list = []
