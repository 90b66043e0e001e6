"""A local CRM for tests: answers the look-up with JSON, slowly, or with an error, and checks
the signature."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from webcare.signed_http import signature_valid


class CrmDouble:
    def __init__(self, secret: str, answer: dict) -> None:
        self.secret, self.answer = secret, answer
        self.delay = 0.0
        self.status = 200
        self.calls: list[str] = []
        self.bad_signatures = 0
        double = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                query = urlsplit(self.path).query
                if not signature_valid(
                    double.secret, self.headers["Webcare-Signature"], query.encode()
                ):
                    double.bad_signatures += 1
                double.calls.append(query)
                time.sleep(double.delay)
                body = json.dumps(double.answer).encode()
                try:
                    self.send_response(double.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/lookup"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
