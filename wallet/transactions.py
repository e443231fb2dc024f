"""Transactions for cold signing: build online, sign offline, broadcast online. Files are plain JSON.

    unsigned = build_transaction(rpc, sender, to, value, data)      # online: nonce, fees, gas, chain id
    write_unsigned(path, unsigned)
    signed = sign_transaction(read_unsigned(path), key)             # offline: no network at all
    send_signed(rpc, signed)                                         # online
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils import is_address, to_checksum_address

from .calldata import ERC20_DECIMALS, ERC20_SYMBOL, decode_token_call, trailing_bytes
from .errors import RpcError, TransactionFailed, TransactionFileError, WalletError
from .files import write_atomic
from .rpc import Rpc
from .units import GWEI, format_amount

UNSIGNED_KIND = "bourse/unsigned-transaction"
SIGNED_KIND = "bourse/signed-transaction"
DEFAULT_PRIORITY_FEE = 1 * GWEI
GAS_MARGIN_PERCENT = 20  # estimateGas + 20%, as wallets do, for state that moves between build and send


@dataclass(frozen=True)
class UnsignedTransaction:
    """An EIP-1559 transaction with every field filled; `token` is display context fetched at build time."""

    chain_id: int
    sender: str
    nonce: int
    to: str | None
    value: int
    data: bytes
    gas: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    token: dict[str, Any] = field(default_factory=dict)

    def as_eth_account(self) -> dict[str, Any]:
        tx = {"type": 2, "chainId": self.chain_id, "nonce": self.nonce, "value": self.value,
              "data": "0x" + self.data.hex(), "gas": self.gas, "maxFeePerGas": self.max_fee_per_gas,
              "maxPriorityFeePerGas": self.max_priority_fee_per_gas}
        if self.to is not None:
            tx["to"] = self.to
        return tx

    def as_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["data"] = "0x" + self.data.hex()
        return {"kind": UNSIGNED_KIND, "version": 1, "transaction": body}

    @classmethod
    def from_json(cls, document: Any) -> UnsignedTransaction:
        if not isinstance(document, dict) or document.get("kind") != UNSIGNED_KIND:
            raise TransactionFileError(f"not an unsigned transaction file (kind must be {UNSIGNED_KIND!r})")
        tx = document.get("transaction")
        try:
            return cls(chain_id=_int(tx["chain_id"]), sender=_address(tx["sender"]), nonce=_int(tx["nonce"]),
                       to=None if tx["to"] is None else _address(tx["to"]), value=_int(tx["value"]),
                       data=bytes.fromhex(str(tx["data"]).removeprefix("0x")), gas=_int(tx["gas"]),
                       max_fee_per_gas=_int(tx["max_fee_per_gas"]),
                       max_priority_fee_per_gas=_int(tx["max_priority_fee_per_gas"]), token=dict(tx.get("token") or {}))
        except (KeyError, TypeError) as exc:
            raise TransactionFileError(f"unsigned transaction file is missing {exc}") from None
        except ValueError as exc:
            raise TransactionFileError(f"unsigned transaction file has a bad field: {exc}") from None


@dataclass(frozen=True)
class SignedTransaction:
    raw: bytes
    hash: str
    sender: str
    chain_id: int

    def as_json(self) -> dict[str, Any]:
        return {"kind": SIGNED_KIND, "version": 1, "raw": "0x" + self.raw.hex(), "hash": self.hash,
                "sender": self.sender, "chain_id": self.chain_id}

    @classmethod
    def from_json(cls, document: Any) -> SignedTransaction:
        if not isinstance(document, dict) or document.get("kind") != SIGNED_KIND:
            raise TransactionFileError(f"not a signed transaction file (kind must be {SIGNED_KIND!r})")
        try:
            return cls(bytes.fromhex(document["raw"].removeprefix("0x")), document["hash"], document["sender"],
                       int(document["chain_id"]))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise TransactionFileError(f"signed transaction file has a bad or missing field: {exc}") from None


def build_transaction(rpc: Rpc, sender: str, to: str | None, value: int = 0, data: bytes = b"",
                      gas: int | None = None, nonce: int | None = None, max_fee_per_gas: int | None = None,
                      max_priority_fee_per_gas: int | None = None, chain_id: int | None = None
                      ) -> UnsignedTransaction:
    """Fill in every field from the node; explicit arguments win (with all of them given, it asks the node
    nothing, except a token's symbol and decimals for an ERC-20 call)."""
    sender = _address(sender)
    to = None if to is None else _address(to)
    if chain_id is None:
        chain_id = rpc.chain_id()
    if nonce is None:
        nonce = rpc.nonce(sender, "pending")
    if max_fee_per_gas is None or max_priority_fee_per_gas is None:
        suggested_max, suggested_priority = suggested_fees(rpc)
        max_priority_fee_per_gas = suggested_priority if max_priority_fee_per_gas is None else max_priority_fee_per_gas
        max_fee_per_gas = suggested_max if max_fee_per_gas is None else max_fee_per_gas
    max_priority_fee_per_gas = min(max_priority_fee_per_gas, max_fee_per_gas)
    if gas is None:
        call: dict[str, Any] = {"from": sender, "value": hex(value), "data": "0x" + data.hex()}
        if to is not None:
            call["to"] = to
        estimate = int(rpc.call("eth_estimateGas", call), 16)
        gas = estimate if data == b"" and to is not None and estimate == 21_000 else \
            estimate * (100 + GAS_MARGIN_PERCENT) // 100
    token = token_context(rpc, to, data)
    return UnsignedTransaction(chain_id, sender, nonce, to, value, data, gas, max_fee_per_gas,
                               max_priority_fee_per_gas, token)


def suggested_fees(rpc: Rpc) -> tuple[int, int]:
    """(max fee, priority fee) per gas as wallets pick them: twice the latest base fee plus the node's tip."""
    try:
        priority = int(rpc.call("eth_maxPriorityFeePerGas"), 16)
    except RpcError:
        priority = DEFAULT_PRIORITY_FEE
    latest = rpc.call("eth_getBlockByNumber", "latest", False)
    return 2 * int(latest.get("baseFeePerGas") or "0x0", 16) + priority, priority


def token_context(rpc: Rpc, to: str | None, data: bytes) -> dict[str, Any]:
    """Symbol and decimals of the token an ERC-20 call targets, so the offline summary can show amounts."""
    if to is None or decode_token_call(data) is None:
        return {}
    context: dict[str, Any] = {}
    try:
        context["decimals"] = int.from_bytes(rpc.eth_call(to, ERC20_DECIMALS)[-32:], "big")
        raw = rpc.eth_call(to, ERC20_SYMBOL)
        from eth_abi import decode
        context["symbol"] = decode(["string"], raw)[0]
    except Exception:  # not a token after all, or a non-standard one: the summary falls back to raw units
        pass
    return context


def sign_transaction(tx: UnsignedTransaction, private_key: bytes) -> SignedTransaction:
    """Sign offline. Refuses a key that is not the transaction's sender."""
    account = Account.from_key(private_key)
    if account.address != tx.sender:
        raise WalletError(f"this transaction is from {tx.sender}, but the key is {account.address}")
    signed = account.sign_transaction(tx.as_eth_account())
    return SignedTransaction(bytes(signed.raw_transaction), "0x" + signed.hash.hex(), tx.sender, tx.chain_id)


def send_signed(rpc: Rpc, signed: SignedTransaction, wait: bool = True, timeout: float = 120.0) -> dict[str, Any]:
    """Broadcast; with `wait`, return the receipt (TransactionFailed if it reverted), else {'transactionHash'}."""
    chain_id = rpc.chain_id()
    if chain_id != signed.chain_id:
        raise WalletError(f"transaction is for chain {signed.chain_id}, the node is chain {chain_id}")
    tx_hash = rpc.send_raw(signed.raw)
    if not wait:
        return {"transactionHash": tx_hash}
    receipt = rpc.wait_for_receipt(tx_hash, timeout)
    if int(receipt.get("status", "0x1"), 16) != 1:
        raise TransactionFailed(tx_hash)
    return receipt


def summary(tx: UnsignedTransaction) -> list[str]:
    """What a signer should read before approving, one fact per line."""
    lines = [f"chain id:      {tx.chain_id}", f"from:          {tx.sender}",
             f"to:            {tx.to or '(contract creation)'}",
             f"value:         {format_amount(tx.value)} ether ({tx.value} wei)",
             f"nonce:         {tx.nonce}",
             f"gas limit:     {tx.gas}",
             f"max fee:       {format_amount(tx.max_fee_per_gas, 9)} gwei "
             f"(priority {format_amount(tx.max_priority_fee_per_gas, 9)} gwei)",
             f"max cost:      {format_amount(tx.value + tx.gas * tx.max_fee_per_gas)} ether"]
    call = decode_token_call(tx.data)
    if call is not None:
        decimals = tx.token.get("decimals")
        symbol = tx.token.get("symbol", "units")
        amount = f"{format_amount(call.amount, decimals)} {symbol}" if isinstance(decimals, int) else \
            f"{call.amount} base units"
        verb = {"transfer": "send", "approve": "allow spender", "transferFrom": "move"}[call.method]
        lines.append(f"token call:    ERC-20 {call.method}: {verb} {call.recipient} {amount}"
                     + (f" from {call.owner}" if call.owner else "") + f" (token {tx.to})")
        extra = trailing_bytes(tx.data)
        if extra:
            lines.append(f"warning:       {extra} byte(s) after the call's arguments (the token ignores them)")
    elif tx.data:
        lines.append(f"data:          {len(tx.data)} bytes, selector 0x{tx.data[:4].hex()}")
    return lines


def write_unsigned(path: Path, tx: UnsignedTransaction) -> None:
    write_atomic(Path(path), json.dumps(tx.as_json(), indent=2).encode() + b"\n", mode=0o644)


def read_unsigned(path: Path) -> UnsignedTransaction:
    return UnsignedTransaction.from_json(_read_json(path))


def write_signed(path: Path, signed: SignedTransaction) -> None:
    write_atomic(Path(path), json.dumps(signed.as_json(), indent=2).encode() + b"\n", mode=0o644)


def read_signed(path: Path) -> SignedTransaction:
    return SignedTransaction.from_json(_read_json(path))


def _read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_bytes())
    except FileNotFoundError:
        raise TransactionFileError(f"{path} does not exist") from None
    except (ValueError, UnicodeDecodeError):
        raise TransactionFileError(f"{path} is not JSON") from None


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"{value!r} is not an integer")
    number = int(value, 0) if isinstance(value, str) else value
    if number < 0:
        raise ValueError(f"{value!r} is negative")
    return number


def _address(value: Any) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise TransactionFileError(f"not an address: {value!r}")
    return to_checksum_address(value)
