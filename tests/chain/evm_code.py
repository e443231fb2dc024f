"""Tiny hand-assembled contracts for node tests (no compiler needed)."""

from __future__ import annotations

from eth_abi import encode


def deployable(runtime: bytes) -> bytes:
    """Init code that returns `runtime`."""
    n = len(runtime)
    head = bytes([0x61]) + n.to_bytes(2, "big") + bytes([0x61]) + (15).to_bytes(2, "big") + bytes(
        [0x60, 0x00, 0x39, 0x61]) + n.to_bytes(2, "big") + bytes([0x60, 0x00, 0xF3])
    return head + runtime


def reverter(data: bytes) -> bytes:
    """Runtime that always reverts with `data`."""
    n = len(data)
    return bytes([0x61]) + n.to_bytes(2, "big") + bytes([0x61]) + (15).to_bytes(2, "big") + bytes(
        [0x60, 0x00, 0x39, 0x61]) + n.to_bytes(2, "big") + bytes([0x60, 0x00, 0xFD]) + data


def error_string(reason: str) -> bytes:
    return bytes.fromhex("08c379a0") + encode(["string"], [reason])


def panic(code: int) -> bytes:
    return bytes.fromhex("4e487b71") + encode(["uint256"], [code])


# LOG1 with topic = calldata[0:32], no data
LOGGER = bytes([0x60, 0x00, 0x35, 0x60, 0x00, 0x60, 0x00, 0xA1, 0x00])
# SSTORE(calldata[0:32], calldata[32:64])
STORER = bytes([0x60, 0x20, 0x35, 0x60, 0x00, 0x35, 0x55, 0x00])
# returns SLOAD(calldata[0:32]) as one word
LOADER = bytes([0x60, 0x00, 0x35, 0x54, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xF3])
