"""The X (Twitter) channel: see connector.py and docs/channels/x.md."""
