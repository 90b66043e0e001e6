"""A local webhook receiver for tests: verifies each signature and records what it got."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from webcare.signed_http import signature_valid


class Receiver:
    def __init__(self, secret: str = "", fail_with: int | None = None) -> None:
        self.secret = secret
        self.fail_with = fail_with
        self.received: list[dict] = []  # verified bodies, in arrival order
        self.delivery_ids: list[str] = []
        self.bad_signatures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - the http.server name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.fail_with:
                    code = receiver.fail_with
                elif not signature_valid(
                    receiver.secret, self.headers.get("Webcare-Signature", ""), body
                ):
                    receiver.bad_signatures += 1
                    code = 400
                else:
                    receiver.received.append(json.loads(body))
                    receiver.delivery_ids.append(self.headers["Webcare-Delivery"])
                    code = 204
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
