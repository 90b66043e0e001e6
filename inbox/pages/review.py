"""Four-eyes review: the queue of replies awaiting approval and closed-thread coaching."""

urlpatterns: list = []
