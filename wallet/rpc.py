"""A small JSON-RPC client over HTTP: the only way the wallet talks to a chain (this node, anvil, geth, BSC)."""

from __future__ import annotations

import itertools
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from .errors import RpcError

DEFAULT_RPC_URL = "http://127.0.0.1:8545"


def default_rpc_url() -> str:
    return os.environ.get("BOURSE_RPC_URL", DEFAULT_RPC_URL)


class Rpc:
    def __init__(self, url: str | None = None, timeout: float = 30.0, headers: dict[str, str] | None = None) -> None:
        self.url = url or default_rpc_url()
        parsed = urllib.parse.urlparse(self.url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise RpcError("connect", f"not an http(s) JSON-RPC URL: {self.url!r} (like http://127.0.0.1:8545)")
        self.timeout = timeout
        self.headers = {"Content-Type": "application/json", **(headers or {})}
        self._ids = itertools.count(1)

    def call(self, method: str, *params: Any) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)})
        request = urllib.request.Request(self.url, body.encode(), self.headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                reply = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            try:
                reply = json.loads(exc.read())
            except ValueError:
                raise RpcError(method, f"HTTP {exc.code} from {self.url}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RpcError(method, f"cannot reach {self.url}: {reason}") from None
        except ValueError:
            raise RpcError(method, f"{self.url} did not answer with JSON") from None
        if not isinstance(reply, dict):
            raise RpcError(method, "malformed JSON-RPC reply")
        if reply.get("error"):
            error = reply["error"]
            text = str(error.get("message", error)) if isinstance(error, dict) else str(error)
            first, _, trace = text.partition("\n")  # a node may add where it reverted on the lines after the first
            failure = RpcError(method, first, error.get("code") if isinstance(error, dict) else None,
                               error.get("data") if isinstance(error, dict) else None)
            failure.trace = trace
            raise failure
        return reply.get("result")

    # --- typed helpers -------------------------------------------------------------------------------------------

    def chain_id(self) -> int:
        return int(self.call("eth_chainId"), 16)

    def block_number(self) -> int:
        return int(self.call("eth_blockNumber"), 16)

    def balance(self, address: str, block: str = "latest") -> int:
        return int(self.call("eth_getBalance", address, block), 16)

    def nonce(self, address: str, block: str = "pending") -> int:
        return int(self.call("eth_getTransactionCount", address, block), 16)

    def eth_call(self, to: str, data: bytes, block: str = "latest") -> bytes:
        return bytes.fromhex(self.call("eth_call", {"to": to, "data": "0x" + data.hex()}, block)[2:])

    def send_raw(self, raw: bytes) -> str:
        return self.call("eth_sendRawTransaction", "0x" + raw.hex())

    def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        return self.call("eth_getTransactionReceipt", tx_hash)

    def wait_for_receipt(self, tx_hash: str, timeout: float = 120.0, poll: float = 0.1) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            receipt = self.receipt(tx_hash)
            if receipt is not None:
                return receipt
            if time.monotonic() > deadline:
                raise RpcError("eth_getTransactionReceipt", f"no receipt for {tx_hash} after {timeout:.0f}s")
            time.sleep(poll)
