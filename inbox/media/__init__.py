"""Customers' media: stored at ingest, fetched by a task, typed from the bytes, kept in the
``media`` storage, served through a permission-checked view (docs/media.md)."""
