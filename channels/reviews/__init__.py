"""Review sites: Google Business Profile, Trustpilot, Kiyoh / Klantenvertellen.

One connector shape (``channels.reviews.base.ReviewConnector``) and a module per platform;
importing this package registers the three channel kinds.
"""

from . import google, kiyoh, trustpilot  # noqa: F401
