"""A loopback SMTP server that can fail on purpose: refuse for a while, drop the connection
after DATA before its reply, answer slowly (past the client's timeout), or hold its answer
to QUIT (so the test can kill the worker waiting for it). It notes every message it took,
with its Message-ID."""

import socketserver
import threading
import time
from contextlib import suppress
from email import message_from_bytes, policy
from email.utils import parseaddr

from tests.services import free_port


class FaultySMTP:
    def __init__(self):
        self.port = free_port()
        self.lock = threading.Lock()
        self.received: list[dict] = []  # {"to": [...], "message_id": str}
        self.refuse_until = 0.0  # monotonic time; meanwhile every session is refused
        self.refuse_seconds = 0.0  # a refusal armed by refuse_for, from the first session on
        self.refused = 0  # sessions refused
        self.refusal = "421"  # "421": at the greeting; "451": the MAIL command
        self.drops_left = 0  # this many sessions end after DATA without the server's reply
        self.quits_to_hold = 0  # this many sessions get no answer to QUIT after their 250
        self.held_ports: list[int] = []  # client ports of the sessions held at QUIT
        self.reply_delay = 0.0  # seconds before each 250 to DATA
        self.slow_replies_left = 0  # this many 250s come only after `slow_reply_seconds`
        self.slow_reply_seconds = 0.0
        smtp = self

        class Session(socketserver.StreamRequestHandler):
            timeout = 30

            def handle(self):
                with suppress(OSError):  # the client gave up (a timeout) or was killed
                    smtp._serve(self)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", self.port), Session)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    # --- what the tests set and read --------------------------------------------------------

    def refuse_for(self, seconds: float, code: str = "421") -> None:
        """Refuse every session for `seconds` from the first one on (whenever workers are up)."""
        self.refusal = code
        self.refuse_seconds = seconds

    def refusing(self) -> bool:
        with self.lock:
            if self.refuse_seconds:
                self.refuse_until = time.monotonic() + self.refuse_seconds
                self.refuse_seconds = 0.0
            return time.monotonic() < self.refuse_until

    def copies(self) -> list[dict]:
        with self.lock:
            return list(self.received)

    def take_held_ports(self) -> list[int]:
        with self.lock:
            ports, self.held_ports = self.held_ports, []
            return ports

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- the protocol ---------------------------------------------------------------------------

    def _serve(self, session) -> None:
        def say(line: str) -> None:
            session.wfile.write(line.encode() + b"\r\n")
            session.wfile.flush()

        if self.refusing() and self.refusal == "421":
            self._take_refusal()
            say("421 4.3.2 Service not available, try again later")
            return
        say("220 faulty.test ESMTP")
        recipients: list[str] = []
        answered = False  # the last DATA got its 250
        while True:
            line = session.rfile.readline()
            if not line:
                return
            command = line.decode("ascii", "replace").strip()
            verb = command[:4].upper()
            if verb == "EHLO":
                say("250-faulty.test")
                say("250-8BITMIME")
                say("250 SMTPUTF8")
            elif verb == "HELO":
                say("250 faulty.test")
            elif verb == "MAIL":
                if self.refusing() and self.refusal == "451":
                    self._take_refusal()
                    say("451 4.7.1 Try again later")
                    continue
                recipients = []
                say("250 OK")
            elif verb == "RCPT":
                recipients.append(parseaddr(command.split(":", 1)[1])[1])
                say("250 OK")
            elif verb == "DATA":
                say("354 End data with <CR><LF>.<CR><LF>")
                content = self._read_data(session)
                if content is None:
                    return
                self._note(recipients, content)
                if self._take("drops_left"):
                    return  # taken, but the client never hears so
                if self._take("slow_replies_left"):
                    time.sleep(self.slow_reply_seconds)
                elif self.reply_delay:
                    time.sleep(self.reply_delay)
                say("250 2.0.0 Queued")
                answered = True
            elif verb == "QUIT":
                if answered and self._take("quits_to_hold"):
                    with self.lock:
                        self.held_ports.append(session.client_address[1])
                    session.rfile.read()  # until the client's socket closes (it is killed)
                    return
                say("221 Bye")
                return
            elif verb in ("RSET", "NOOP"):
                say("250 OK")
            else:
                say("502 Command not implemented")

    def _take_refusal(self) -> None:
        with self.lock:
            self.refused += 1

    def _take(self, counter: str) -> bool:
        with self.lock:
            left = getattr(self, counter)
            if left <= 0:
                return False
            setattr(self, counter, left - 1)
            return True

    @staticmethod
    def _read_data(session) -> bytes | None:
        lines = []
        while True:
            line = session.rfile.readline()
            if not line:
                return None
            if line in (b".\r\n", b".\n"):
                return b"".join(lines)
            lines.append(line[1:] if line.startswith(b"..") else line)

    def _note(self, recipients: list[str], content: bytes) -> None:
        parsed = message_from_bytes(content, policy=policy.default)
        with self.lock:
            self.received.append({"to": list(recipients),
                                  "message_id": str(parsed.get("Message-ID", "")).strip()})
