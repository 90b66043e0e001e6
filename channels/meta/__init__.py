"""What every Meta platform (Facebook Pages, Messenger, Instagram, WhatsApp Business) shares:
the signed-webhook handshake and check (``signature``), the account and its Graph client
(``account``), the recently active conversations (``conversations``) and storing a webhook
delivery's results per channel (``store``). The Graph API client and its error policy live in
``channels.facebook.client`` and are used from there by the other Meta connectors."""
