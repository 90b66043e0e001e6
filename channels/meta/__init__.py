"""What the Meta platforms' connectors share (Facebook Page, Messenger, Instagram): the account
and its token, and storing a webhook delivery's results per channel. The Graph client and the
webhook intake they share live in ``channels.facebook.client`` and ``.webhooks``."""
