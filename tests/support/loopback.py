"""A threaded HTTP server on 127.0.0.1 for the tests' doubles (the fake API, the S3 proxy)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and hung up on a slow answer: expected here


class LoopbackHttp:
    """Serves `handler()` on a free loopback port: `start()` (its URL), `stop()`, or `with`."""

    url_path = ""
    _server: ThreadingHTTPServer | None = None
    url: str = ""

    def handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def start(self) -> str:
        self._server = _Server(("127.0.0.1", 0), self.handler())
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.url_path}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> Self:
        self.url = self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
