"""Importing this package registers every connector kind."""

from channels.facebook import connector as _facebook  # noqa: F401
from channels.simulator import connector as _simulator  # noqa: F401
