"""State files in anvil's format, both ways: what `anvil --dump-state`/`anvil_dumpState` write loads here, and
what this node writes loads into anvil.

The format is anvil's `SerializableState` JSON: the block environment, every account (nonce, balance, code,
storage) and the best block number; anvil also stores its blocks and transactions, which a loading node need
not replay. `anvil_dumpState` answers it gzip-compressed as hex; files hold the plain JSON.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InvalidParams
from .state import EMPTY_CODE_HASH, Overlay

MAX_STATE_BYTES = 1 << 30  # a state file beyond 1 GiB is refused rather than read into memory


@dataclass
class LoadedState:
    """What a state file holds, decoded and checked."""

    accounts: dict[bytes, tuple[int, int, bytes, dict[int, int]]]  # nonce, balance, code, storage
    block_number: int | None = None
    timestamp: int | None = None
    base_fee: int | None = None
    gas_limit: int | None = None

    def apply(self, overlay: Overlay) -> None:
        """Write every account into `overlay` (its storage replaced by the file's)."""
        for address, (nonce, balance, code, storage) in self.accounts.items():
            overlay.touch_account(address)
            overlay.set_nonce(address, nonce)
            overlay.set_balance(address, balance)
            overlay.set_code(address, code)
            overlay.delete_storage(address)
            for slot, value in storage.items():
                overlay.set_storage(address, slot, value)


def dump(node: Any) -> dict[str, Any]:
    """The node's head state in anvil's format (the caller holds the node lock)."""
    backend = node.backend
    live = backend.live
    head = backend.head
    accounts: dict[str, Any] = {}
    for address in sorted(live.accounts):
        nonce, balance, code_hash = live.accounts[address]
        slots = live.slots.get(address, {})
        accounts["0x" + address.hex()] = {
            "nonce": nonce, "balance": hex(balance),
            "code": "0x" + (live.code(code_hash) if code_hash != EMPTY_CODE_HASH else b"").hex(),
            "storage": {"0x" + slot.to_bytes(32, "big").hex(): "0x" + value.to_bytes(32, "big").hex()
                        for slot, value in sorted(slots.items())},
        }
    return {
        "block": {"number": hex(head.number), "beneficiary": "0x" + backend.coinbase.hex(),
                  "timestamp": hex(head.timestamp), "gas_limit": head.gas_limit, "basefee": head.base_fee,
                  "difficulty": "0x0", "prevrandao": "0x" + head.mix_hash.hex(),
                  "blob_excess_gas_and_price": {"excess_blob_gas": 0, "blob_gasprice": 1}},
        "accounts": accounts,
        "best_block_number": head.number,
        "blocks": [{"header": _header_json(head), "transactions": [], "ommers": [], "withdrawals": None}],
        "transactions": [],
        "historical_states": None,
    }


def _header_json(header: Any) -> dict[str, Any]:
    """The head block's header as anvil stores it (anvil needs the block of its best number to load a state)."""
    out = {"parentHash": _h(header.parent_hash),
           "sha3Uncles": "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347",
           "miner": _h(header.coinbase), "stateRoot": _h(header.state_root),
           "transactionsRoot": _h(header.transactions_root), "receiptsRoot": _h(header.receipts_root),
           "logsBloom": _h(header.bloom), "difficulty": "0x0", "number": hex(header.number),
           "gasLimit": hex(header.gas_limit), "gasUsed": hex(header.gas_used), "timestamp": hex(header.timestamp),
           "extraData": _h(header.extra_data), "mixHash": _h(header.mix_hash), "nonce": "0x0000000000000000",
           "baseFeePerGas": hex(header.base_fee), "withdrawalsRoot": _h(header.withdrawals_root)}
    if header.fork_level >= 1:
        out.update(blobGasUsed=hex(header.blob_gas_used), excessBlobGas=hex(header.excess_blob_gas),
                   parentBeaconBlockRoot=_h(header.parent_beacon_root))
    if header.fork_level >= 2:
        out["requestsHash"] = _h(header.requests_hash)
    return out


def _h(value: bytes) -> str:
    return "0x" + value.hex()


def encode_for_rpc(state: dict[str, Any]) -> str:
    """anvil_dumpState's answer: gzip-compressed JSON, as 0x-hex."""
    return "0x" + gzip.compress(json.dumps(state, separators=(",", ":")).encode(), mtime=0).hex()


def decode(document: Any) -> LoadedState:
    """A state from anvil_loadState's argument (0x-hex of gzip or plain JSON) or a parsed JSON object."""
    if isinstance(document, str):
        if not document.startswith(("0x", "0X")) or len(document) % 2:
            raise InvalidParams("invalid state: expected 0x-hex of anvil's state (gzip or JSON) or a JSON object")
        try:
            raw = bytes.fromhex(document[2:])
        except ValueError:
            raise InvalidParams("invalid state: not hex") from None
        document = _parse_bytes(raw)
    if not isinstance(document, dict) or not isinstance(document.get("accounts"), dict):
        raise InvalidParams("invalid state: expected an object with an `accounts` map, as anvil writes it")
    accounts = {}
    for key, entry in document["accounts"].items():
        address = _bytes(key, f"accounts key {key!r}", 20)
        if not isinstance(entry, dict):
            raise InvalidParams(f"invalid state: account {key} is not an object")
        storage = {}
        raw_storage = entry.get("storage") or {}
        if not isinstance(raw_storage, dict):
            raise InvalidParams(f"invalid state: storage of {key} is not an object")
        for slot, value in raw_storage.items():
            number = _int(value, f"storage value {slot} of {key}", 256)
            if number:
                storage[_int(slot, f"storage slot {slot} of {key}", 256)] = number
        accounts[address] = (_int(entry.get("nonce", 0), f"nonce of {key}", 64),
                             _int(entry.get("balance", 0), f"balance of {key}", 256),
                             _bytes(entry.get("code") or "0x", f"code of {key}"), storage)
    block = document.get("block") or {}
    if not isinstance(block, dict):
        raise InvalidParams("invalid state: `block` is not an object")
    best = document.get("best_block_number")
    number = _int(best, "best_block_number", 64) if best is not None else (
        _int(block["number"], "block.number", 64) if block.get("number") is not None else None)
    return LoadedState(
        accounts=accounts, block_number=number,
        timestamp=_int(block["timestamp"], "block.timestamp", 64) if block.get("timestamp") is not None else None,
        base_fee=_int(block["basefee"], "block.basefee", 64) if block.get("basefee") is not None else None,
        gas_limit=_int(block["gas_limit"], "block.gas_limit", 63) if block.get("gas_limit") is not None else None)


def read_file(path: Path) -> LoadedState:
    """A state file (plain or gzip-compressed JSON); ValueError says what is wrong with it."""
    try:
        size = path.stat().st_size
        if size > MAX_STATE_BYTES:
            raise ValueError(f"state file {path} is {size} bytes; at most {MAX_STATE_BYTES}")
        raw = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read state file {path}: {exc.strerror}") from None
    try:
        return decode(_parse_bytes(raw))
    except InvalidParams as exc:
        raise ValueError(f"state file {path}: {exc.message}") from None


def write_file(path: Path, state: dict[str, Any]) -> None:
    """Write the JSON atomically: a crash leaves the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(state, f, separators=(",", ":"))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _parse_bytes(raw: bytes) -> Any:
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise InvalidParams(f"invalid state: bad gzip data ({exc})") from None
        if len(raw) > MAX_STATE_BYTES:
            raise InvalidParams("invalid state: larger than 1 GiB uncompressed")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidParams(f"invalid state: not JSON ({exc})") from None


def _int(value: Any, name: str, bits: int) -> int:
    if isinstance(value, bool):
        raise InvalidParams(f"invalid state: {name} is a boolean")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        try:
            number = int(value, 16) if value.startswith(("0x", "0X")) else int(value)
        except ValueError:
            raise InvalidParams(f"invalid state: {name} is not a number") from None
    else:
        raise InvalidParams(f"invalid state: {name} is not a number")
    if not 0 <= number < 2**bits:
        raise InvalidParams(f"invalid state: {name} is out of range")
    return number


def _bytes(value: Any, name: str, length: int | None = None) -> bytes:
    if not isinstance(value, str) or not value.startswith(("0x", "0X")):
        raise InvalidParams(f"invalid state: {name} is not 0x-hex")
    try:
        raw = bytes.fromhex(value[2:])
    except ValueError:
        raise InvalidParams(f"invalid state: {name} is not hex") from None
    if length is not None and len(raw) != length:
        raise InvalidParams(f"invalid state: {name} is not {length} bytes")
    return raw
