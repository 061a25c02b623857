"""HTTP/1.1 on loopback for one simulated workspace (stdlib ``ThreadingHTTPServer``, daemon threads).

Keep-alive matters: the SDK and ``requests.Session`` reuse connections, and a server that closed each one
would benchmark connection set-up rather than the API. Transport faults (dropped connections, short
bodies, hangs) are applied here because only the socket layer can break a connection.
Only method and path are ever logged (at DEBUG): never headers, bodies, secrets or tokens.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from .protocol import Request, Response

if TYPE_CHECKING:
    from .app import WorkspaceApp

logger = logging.getLogger(__name__)
IDLE_TIMEOUT_S = 120  # close keep-alive connections idle this long


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "databricks-sandbox/1.0"
    sys_version = ""
    timeout = IDLE_TIMEOUT_S
    # Headers and body go out in two writes; with Nagle on, each keep-alive answer stalls ~40 ms on the
    # client's delayed ACK.
    disable_nagle_algorithm = True
    server: WorkspaceServer

    def _serve(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        body = self.rfile.read(length) if length > 0 else b""
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        request = Request(self.command, url.path, query, self.headers, body, self.client_address[0])
        self._write(self.server.app.handle(request))

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _serve

    def _write(self, resp: Response) -> None:
        if resp.delay_s and self.server.stopping.wait(resp.delay_s):
            self.close_connection = True
            return
        if resp.transport == "drop":
            self.close_connection = True
            return
        body = resp.body
        headers = dict(resp.headers)
        # A HEAD answer declares the length of the body a GET would send, and sends none (Files API metadata).
        length = headers.pop("Content-Length", None) if self.command == "HEAD" else None
        if self.command == "HEAD":
            body = b""
        self.send_response(resp.status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", length or str(len(body)))
        if resp.transport == "short_read":
            body = body[: len(body) // 2]
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        """Method, bare path (no query string) and status only."""
        path = urlsplit(self.path).path if hasattr(self, "path") else "-"
        logger.debug("%s %s %s -> %s", self.server.app.state.workspace.workspace_id, self.command, path, code)

    def log_message(self, format: str, *args: Any) -> None:
        """Protocol-level errors (bad request lines); the text comes from http.server, not from clients' headers."""
        logger.debug("%s: " + format, self.server.app.state.workspace.workspace_id, *args)


class WorkspaceServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], app: WorkspaceApp, stopping: threading.Event):
        super().__init__(address, _Handler)
        self.app = app
        self.stopping = stopping
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"sim-databricks-{self.app.state.workspace.workspace_id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, then break open keep-alive connections so no handler thread lingers."""
        self.shutdown()
        self.server_close()
        with self._open_lock:
            for sock in list(self._open):
                with contextlib.suppress(OSError):  # already closed by the client
                    sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that time out or hang up mid-answer are normal here; anything else is logged."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
            return
        logger.exception("error serving %s", client_address)
