"""HTTP transport for the hot signer: JSON-RPC 2.0 over TCP (127.0.0.1 by default) or a Unix socket.

Every request must carry `Authorization: Bearer <token>`; anything else gets HTTP 401 and is not logged as a
signing request. Bodies are capped at 1 MiB.
"""

from __future__ import annotations

import errno
import hmac
import json
import logging
import os
import secrets
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .errors import SignerError, WalletError
from .files import write_atomic
from .signer import HotSigner

log = logging.getLogger("bourse.signer")
MAX_BODY = 1 << 20
DEFAULT_SIGNER_PORT = 8550  # clef's port


def load_or_create_token(path: Path) -> str:
    """The bearer token in `path`; a new random one (mode 0600) if the file does not exist."""
    path = Path(path)
    if path.exists():
        token = path.read_text().strip()
        if len(token) < 16:
            raise WalletError(f"token file {path} holds fewer than 16 characters")
        return token
    token = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, token.encode() + b"\n")
    return token


class _Handler(BaseHTTPRequestHandler):
    server: Any
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        if not self._authorised():
            return self._send(401, {"jsonrpc": "2.0", "id": None,
                                    "error": {"code": -32000, "message": "missing or wrong bearer token"}})
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return self._send(413, _error(None, -32600, "request body too large"))
        try:
            request = json.loads(self.rfile.read(length))
        except ValueError:
            return self._send(200, _error(None, -32700, "parse error: body is not JSON"))
        if not isinstance(request, dict) or not isinstance(request.get("method"), str):
            return self._send(200, _error(request.get("id") if isinstance(request, dict) else None, -32600,
                                          "invalid request: expected a JSON-RPC object with a method"))
        params = request.get("params") or []
        if not isinstance(params, list):
            return self._send(200, _error(request.get("id"), -32602, "params must be an array"))
        try:
            result = self.server.signer.handle(request["method"], params)
        except SignerError as exc:
            data = {"rule": exc.rule} if exc.rule else None
            return self._send(200, _error(request.get("id"), exc.code or -32000, str(exc), data))
        except Exception:
            log.exception("signer request failed")
            return self._send(200, _error(request.get("id"), -32603, "internal error"))
        self._send(200, {"jsonrpc": "2.0", "id": request.get("id"), "result": result})

    def do_GET(self) -> None:
        self._send(405, _error(None, -32600, "POST JSON-RPC requests"))

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization", "")
        return bool(self.server.token) and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip().encode(),
                                                                    self.server.token.encode())

    def _send(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.client_address, *args)

    def address_string(self) -> str:
        return str(self.client_address)


def _error(request_id: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


class _TcpServer(ThreadingHTTPServer):
    daemon_threads = True


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self) -> tuple[Any, Any]:
        sock, _ = super().get_request()
        return sock, ("unix", 0)


class SignerServer:
    """Serve a HotSigner; `start()` runs it on a background thread, `serve_forever()` in the caller's."""

    def __init__(self, signer: HotSigner | None, token: str, host: str = "127.0.0.1", port: int = DEFAULT_SIGNER_PORT,
                 unix_socket: Path | None = None) -> None:
        """Binds at once; a server made without a signer answers nothing until `attach`."""
        if unix_socket is not None:
            unix_socket = Path(unix_socket)
            if unix_socket.exists():
                unix_socket.unlink()
            previous = os.umask(0o177)  # the socket is created 0600: no moment when others could connect
            try:
                self._server: Any = _UnixServer(str(unix_socket), _Handler)
            finally:
                os.umask(previous)
            self.url = f"unix://{unix_socket}"
        else:
            try:
                self._server = _TcpServer((host, port), _Handler)
            except OSError as exc:
                reason = "address already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
                raise WalletError(f"cannot listen on {host}:{port}: {reason}") from None
            self.url = f"http://{host}:{self._server.server_address[1]}"
        self._thread: threading.Thread | None = None
        self.attach(signer, token)

    def attach(self, signer: HotSigner | None, token: str) -> None:
        self._server.signer = signer
        self._server.token = token

    def start(self) -> SignerServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name="bourse-signer", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self.url.startswith("unix://"):
            Path(self.url[7:]).unlink(missing_ok=True)
