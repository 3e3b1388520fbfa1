"""A fault-injecting HTTP proxy on 127.0.0.1, in front of the S3-compatible test server (moto).

Every request is forwarded to the server, unless the first fault in `faults` whose method and
path match takes it (each fault is used once):
- "503": `503 SlowDown`, as S3 answers a client that should slow down;
- "500": `500 InternalError`;
- "reset": the server's answer, cut off in the middle of its body, the connection reset;
- "stall": the server's answer, `seconds` late (past the client's read timeout);
- "truncate": a listing (ListObjectsV2) asked with `max-keys=<keys>`, so it comes truncated and
  the client must continue it with the continuation token. Not a failure: what S3 does to any
  listing past 1,000 keys, here at a size the tests can afford.
`served` counts the faults that were injected, by kind.
"""

from __future__ import annotations

import http.client
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from tests.support.loopback import LoopbackHttp
from tests.support.s3 import S3_CREDENTIALS

# The retry policy for runs through the proxy, small so that a fault past it costs seconds:
# 3 attempts, a 2 s read timeout (the defaults are in orchestration/settings/).
TEST_RETRY_POLICY = {"STIGG_S3_MAX_ATTEMPTS": "3", "STIGG_S3_READ_TIMEOUT_SECONDS": "2"}


def s3_run_env(
    base: dict[str, str], endpoint: str, export_uri: str, warehouse: Path, dagster_home: Path
) -> dict[str, str]:
    """The environment of a run that reads `export_uri` from `endpoint` (the proxy, or the server
    itself) with the test credentials and TEST_RETRY_POLICY."""
    return dict(
        base,
        **S3_CREDENTIALS,
        **TEST_RETRY_POLICY,
        AWS_ENDPOINT_URL=endpoint,
        STIGG_EXPORT_URI=export_uri,
        STIGG_WAREHOUSE_PATH=str(warehouse),
        DAGSTER_HOME=str(dagster_home),
    )


def in_request(key: str) -> str:
    """A key (or a part of one) as it appears in a request's path and query: URL-encoded, so
    `dt=...` is `dt%3D...` and a listing's `prefix=a/b` is `prefix=a%2Fb`."""
    return quote(key, safe="")


_ERRORS = {
    "503": (503, "SlowDown", "Please reduce your request rate."),
    "500": (500, "InternalError", "We encountered an internal error. Please try again."),
}


@dataclass
class S3Fault:
    kind: str  # 503 | 500 | reset | stall | truncate
    method: str | None = None  # GET, HEAD, ... (None: any)
    path_contains: str | None = None  # a part of the request's path and query
    seconds: float = 0.0
    keys: int = 2


@dataclass
class S3FaultProxy(LoopbackHttp):
    upstream: str  # the S3-compatible server's endpoint URL
    faults: list[S3Fault] = field(default_factory=list)
    served: Counter = field(default_factory=Counter)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of each

    def __post_init__(self) -> None:
        parts = urlsplit(self.upstream)
        self._host, self._port = parts.hostname, parts.port
        self._lock = threading.Lock()

    def take(self, method: str, path: str) -> S3Fault | None:
        with self._lock:
            self.requests.append((method, path))
            for i, fault in enumerate(self.faults):
                if fault.method not in (None, method):
                    continue
                if fault.path_contains is not None and fault.path_contains not in path:
                    continue
                if fault.kind == "truncate" and "list-type=2" not in path:
                    continue
                self.served[fault.kind] += 1
                return self.faults.pop(i)
        return None

    def handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                fault = proxy.take(self.command, self.path)
                if fault is not None and fault.kind in _ERRORS:
                    status, code, message = _ERRORS[fault.kind]
                    payload = (
                        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
                        f"<Message>{message}</Message></Error>"
                    ).encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                    return
                path = self.path
                if fault is not None and fault.kind == "truncate":
                    path += f"&max-keys={fault.keys}"
                upstream = http.client.HTTPConnection(proxy._host, proxy._port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                upstream.request(self.command, path, body=body, headers=headers)
                response = upstream.getresponse()
                data = response.read()
                upstream.close()
                if fault is not None and fault.kind == "stall":
                    time.sleep(fault.seconds)
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in ("connection", "transfer-encoding", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command == "HEAD":
                    return
                if fault is not None and fault.kind == "reset":
                    self.wfile.write(data[: max(len(data) // 2, 1)])
                    self.wfile.flush()
                    # SO_LINGER 0: the close sends a RST, as a dropped connection does.
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.connection.close()
                    self.close_connection = True
                    return
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle

        return Handler
