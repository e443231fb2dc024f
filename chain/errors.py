"""The node's exceptions; each carries its EIP-1474 JSON-RPC error code."""

from __future__ import annotations

from typing import Any


class ChainError(Exception):
    """Root of every error the node reports to a client."""

    code = -32603

    def __init__(self, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data


class InvalidRequest(ChainError):
    code = -32600


class MethodNotFound(ChainError):
    code = -32601


class InvalidParams(ChainError, ValueError):
    code = -32602


class TransactionRejected(ChainError):
    """Bad nonce, funds, gas or chain id: the transaction never entered the pool."""

    code = -32003


class ExecutionError(ChainError):
    """The call could not run (insufficient funds, out of gas, invalid opcode): geth's -32000."""

    code = -32000


class ExecutionReverted(ChainError):
    """EIP-1474/geth: code 3 with the raw revert data in `data`."""

    code = 3
    source_stack: list[str] | None = None  # file:line frames of a revert in known sources

    def __init__(self, reason: str | None, revert_data: bytes) -> None:
        message = f"execution reverted: {reason}" if reason else "execution reverted"
        super().__init__(message, "0x" + revert_data.hex())
        self.reason = reason
        self.revert_data = revert_data

    def with_stack(self, frames: list[str]) -> ExecutionReverted:
        """The same error with the source frames it came through, innermost first, in the error object's
        `sourceStack` member: the message stays anvil's, which tools such as ape's `reverts` match exactly."""
        error = ExecutionReverted(self.reason, self.revert_data)
        error.source_stack = frames
        return error


class ResourceNotFound(ChainError):
    code = -32001


class LimitExceeded(ChainError):
    """A per-node or per-connection cap (filters, subscriptions): EIP-1474's "limit exceeded"."""

    code = -32005


class UnknownAccount(ChainError, KeyError):
    """The node holds no key for this address and it is not impersonated."""

    code = -32000

    def __init__(self, address: str) -> None:
        super().__init__(f"no key for account {address}; use a dev account or anvil_impersonateAccount")
