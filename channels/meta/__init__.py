"""What every Meta platform (Facebook Pages, Messenger, WhatsApp Business) shares: the
signed-webhook handshake and check (``signature``). The Graph API client and its error policy
live in ``channels.facebook.client`` and are used from there by the other Meta connectors."""
