"""WhatsApp Business through Meta's Cloud API (docs/channels/whatsapp.md)."""
