"""A local HTTPS server for the CRM fakes: a trustme CA, a certificate for 127.0.0.1 and
localhost, and the CA bundle written to a file the clients are pointed at
(REQUESTS_CA_BUNDLE / SSL_CERT_FILE, as DESIGN.md section 3 says)."""

from __future__ import annotations

import atexit
import json
import os
import ssl
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import trustme

HOST = "127.0.0.1"
_CA = trustme.CA()  # one CA per test process: every fake's certificate chains to it
_CERT = _CA.issue_cert(HOST, "localhost")
_CA_FILE: Path | None = None


def ca_bundle() -> Path:
    """The CA bundle file (PEM) that trusts every local fake: this process's own file,
    written afresh (a file left by another process, or an earlier run, holds another CA)."""
    global _CA_FILE
    if _CA_FILE is None:
        handle, name = tempfile.mkstemp(prefix="salesops-test-ca-", suffix=".pem")
        os.close(handle)
        _CA.cert_pem.write_to_path(name)
        atexit.register(os.unlink, name)
        _CA_FILE = Path(name)
    return _CA_FILE


def send_json(
    handler: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str]
) -> None:
    """Answer a fake's request with a JSON body (and any extra headers)."""
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json;charset=UTF-8")
    handler.send_header("Content-Length", str(len(data)))
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)


class HttpsServer:
    """Serves `handler` over TLS on a free port of 127.0.0.1 in a background thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer((HOST, 0), handler)
        self.httpd.daemon_threads = True
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        _CERT.configure_cert(context)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.httpd.fake = None  # type: ignore[attr-defined]  # the fake that owns it
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self.httpd.server_address[1]}"

    def start(self) -> HttpsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
