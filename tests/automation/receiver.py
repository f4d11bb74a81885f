"""A real HTTP receiver on loopback that checks each call's HMAC signature, as a CRM would."""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.services import free_port


class WebhookReceiver:
    """Records every POST; answers with the next status in `statuses` (then the last one)."""

    def __init__(self, secret: str = "", statuses=(200,)):
        self.secret = secret
        self.statuses = list(statuses)
        self.calls: list[dict] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the stdlib's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.calls.append({"headers": dict(self.headers), "body": body,
                                           "path": self.path})
                    status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 \
                        else receiver.statuses[0]
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"receiver broke")

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def json_bodies(self) -> list[dict]:
        return [json.loads(call["body"]) for call in self.calls]

    def signature_ok(self, call: dict, secret: str | None = None, max_age: int = 300) -> bool:
        """What a receiver must check: the HMAC over "<t>.<body>" and a fresh timestamp."""
        header = call["headers"].get("Signet-Signature", "")
        parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
        timestamp = parts.get("t", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > max_age:
            return False
        expected = hmac.new((secret or self.secret).encode(),
                            f"{timestamp}.".encode() + call["body"], hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, parts.get("v1", ""))
