"""HTTP ``Range`` for stored media (RFC 9110 §14), so video and audio players can seek.

One byte range is served as 206 with ``Content-Range``; a range that starts past the end is 416
with ``Content-Range: bytes */<size>``; a header we do not read (another unit, several ranges,
nonsense) is ignored and the whole file is served, as RFC 9110 allows. From an S3 bucket only
the asked-for bytes are read (a ranged GET); from the filesystem, a seek.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

CHUNK = 64 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Unsatisfiable(Exception):
    """The one range asked for lies wholly past the end of the file."""


def parse(header: str, size: int) -> tuple[int, int] | None:
    """``(first, last)`` byte positions (inclusive) of a single range, or None to serve the
    whole file. Raises :class:`Unsatisfiable` for a range past the end."""
    found = _RANGE.match(header.strip().replace(" ", ""))
    if not found or found.groups() == ("", ""):
        return None
    first, last = found.groups()
    if not first:  # "bytes=-500": the last 500 bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise Unsatisfiable
        return max(0, size - suffix), size - 1
    start = int(first)
    if last and int(last) < start:
        return None  # invalid: ignored
    if start >= size:
        raise Unsatisfiable
    return start, min(int(last) if last else size - 1, size - 1)


def read_range(storage, name: str, first: int, last: int) -> Iterator[bytes]:
    """The bytes ``first..last`` of a stored file, in chunks."""
    bucket = getattr(storage, "bucket", None)
    if bucket is not None:  # django-storages' S3Storage: ask the bucket for the bytes only
        key = storage._normalize_name(name)  # our own names, clean already
        body = bucket.Object(key).get(Range=f"bytes={first}-{last}")["Body"]
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()
        return
    with storage.open(name, "rb") as handle:
        handle.seek(first)
        left = last - first + 1
        while left > 0:
            chunk = handle.read(min(CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk
