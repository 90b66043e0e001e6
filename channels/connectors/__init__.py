"""Importing this package registers every connector kind."""

from channels import reviews as _reviews  # noqa: F401
from channels.facebook import connector as _facebook  # noqa: F401
from channels.instagram import connector as _instagram  # noqa: F401
from channels.simulator import connector as _simulator  # noqa: F401
from channels.simulator import meta as _meta_demo  # noqa: F401
from channels.simulator import platforms as _platforms_demo  # noqa: F401
from channels.simulator import whatsapp as _whatsapp_demo  # noqa: F401
from channels.whatsapp import connector as _whatsapp  # noqa: F401
from channels.x import connector as _x  # noqa: F401
