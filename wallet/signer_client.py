"""Clients of the hot signer: `SignerClient` speaks its JSON-RPC; `RemoteAccount` looks like an eth-account
LocalAccount to web3 code (`.address`, `.sign_transaction(tx).raw_transaction`), but the key never leaves the signer.

    client = SignerClient("http://127.0.0.1:8550", token)
    operator = client.account(client.accounts()[0])
    signed = operator.sign_transaction({"to": ..., "value": ..., "gas": ..., "maxFeePerGas": ..., ...})
    w3.eth.send_raw_transaction(signed.raw_transaction)
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from eth_utils import to_checksum_address

from .errors import SignerError


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


@dataclass(frozen=True)
class SignedTransaction:
    """The parts of eth-account's SignedTransaction that web3 code reads."""

    raw_transaction: bytes
    hash: bytes
    tx: dict[str, Any]


class SignerClient:
    def __init__(self, url: str, token: str | None = None, timeout: float = 30.0) -> None:
        self.url = url
        self.token = token if token is not None else os.environ.get("BOURSE_SIGNER_TOKEN", "")
        self.timeout = timeout
        self._ids = itertools.count(1)

    def call(self, method: str, *params: Any) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)})
        connection = self._connection()
        try:
            connection.request("POST", self._path, body, {"Content-Type": "application/json",
                                                          "Authorization": f"Bearer {self.token}"})
            response = connection.getresponse()
            status, payload = response.status, response.read()
        except OSError as exc:
            raise SignerError(f"cannot reach the signer at {self.url}: {exc}") from None
        finally:
            connection.close()
        if status == 401:
            raise SignerError("the signer refused the bearer token", 401)
        try:
            reply = json.loads(payload)
        except ValueError:
            raise SignerError(f"the signer answered HTTP {status} without JSON") from None
        if reply.get("error"):
            error = reply["error"]
            raise SignerError(error.get("message", "signer error"), error.get("code"),
                              (error.get("data") or {}).get("rule"))
        return reply.get("result")

    def accounts(self) -> list[str]:
        return [to_checksum_address(a) for a in self.call("account_list")]

    def account(self, address: str) -> RemoteAccount:
        return RemoteAccount(self, to_checksum_address(address))

    def sign_transaction(self, tx: dict[str, Any]) -> SignedTransaction:
        result = self.call("account_signTransaction", _clef_tx(tx))
        return SignedTransaction(bytes.fromhex(result["raw"][2:]), bytes.fromhex(result["tx"]["hash"][2:]),
                                 result["tx"])

    def sign_typed_data(self, address: str, typed_data: dict[str, Any]) -> str:
        return self.call("account_signTypedData", address, _jsonable(typed_data))

    @property
    def _path(self) -> str:
        parsed = urlparse(self.url)
        return "/" if parsed.scheme == "unix" else (parsed.path or "/")

    def _connection(self) -> http.client.HTTPConnection:
        parsed = urlparse(self.url)
        if parsed.scheme == "unix":
            return _UnixConnection(parsed.path, self.timeout)
        if parsed.scheme != "http":
            raise SignerError(f"signer URL must be http://host:port or unix:///path, not {self.url!r}")
        return http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port or 80, timeout=self.timeout)


@dataclass(frozen=True)
class RemoteAccount:
    client: SignerClient
    address: str

    def sign_transaction(self, tx: dict[str, Any]) -> SignedTransaction:
        return self.client.sign_transaction({**tx, "from": self.address})

    def sign_typed_data(self, typed_data: dict[str, Any]) -> str:
        return self.client.sign_typed_data(self.address, typed_data)


def _clef_tx(tx: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in tx.items():
        if value is None:
            continue
        if name in ("data", "input"):
            out["data"] = value if isinstance(value, str) else "0x" + bytes(value).hex()
        elif isinstance(value, int) and not isinstance(value, bool):
            out[name] = hex(value)
        else:
            out[name] = value
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
