"""The hot signer's core: unlocked keys, their policies, the audit log; clef's `account_*` methods.

Transport-free (the HTTP server in `signer_server` and tests call `handle`). Each request is checked against the
key's policy, signed, written to the audit log (fsync), and only then counted and answered; a refused request is
logged with its rule and changes no counter. Counters are rebuilt from the audit log on start, so a restart does
not reset a 24-hour limit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from eth_account import Account
from eth_utils import is_address, to_checksum_address

from .audit import AuditLog
from .errors import PolicyViolation, SignerError, WalletError
from .policy import DAY_SECONDS, KeyPolicy, PolicyEngine, Spend
from .signing import sign_typed_data, typed_data_digest

CLEF_VERSION = "6.1.0"  # the external API version clef reported; clients check the major
INVALID_PARAMS = -32602
METHOD_NOT_FOUND = -32601
REFUSED = -32001


class HotSigner:
    def __init__(self, keys: dict[str, bytes], policies: dict[str, KeyPolicy], audit: AuditLog,
                 clock: Callable[[], float] = time.time) -> None:
        self._keys = {Account.from_key(k).address: k for k in keys.values()}
        self._engines = {address: PolicyEngine(policy) for address, policy in policies.items()}
        self.audit = audit
        self.clock = clock
        self._lock = threading.Lock()
        self._replay_counters()

    @property
    def addresses(self) -> list[str]:
        return sorted(self._keys)

    def handle(self, method: str, params: list[Any]) -> Any:
        if method == "account_list":
            return self.addresses
        if method == "account_version":
            return CLEF_VERSION
        if method == "account_signTransaction":
            if len(params) < 1 or not isinstance(params[0], dict):
                raise SignerError("account_signTransaction takes one transaction object", INVALID_PARAMS)
            return self.sign_transaction(params[0])
        if method == "account_signTypedData":
            if len(params) != 2 or not isinstance(params[1], dict):
                raise SignerError("account_signTypedData takes [address, typedData]", INVALID_PARAMS)
            return self.sign_typed_data(params[0], params[1])
        raise SignerError(f"the signer has no method {method!r}", METHOD_NOT_FOUND)

    def sign_transaction(self, args: dict[str, Any]) -> dict[str, Any]:
        """clef's shape: `{"raw": "0x..", "tx": {...}}` with the hash in `tx`."""
        tx, sender = _parse_transaction(args)
        key = self._key(sender)
        request = {"method": "account_signTransaction", "from": sender, "to": tx.get("to"),
                   "value": tx["value"], "data": tx["data"], "chainId": tx["chainId"], "nonce": tx["nonce"],
                   "gas": tx["gas"]}
        with self._lock:
            now = int(self.clock())
            engine = self._engine(sender, request, now)
            try:
                spend = engine.check_transaction(now, tx["chainId"], tx.get("to"), tx["value"],
                                                 bytes.fromhex(tx["data"][2:]), gas=tx["gas"],
                                                 fee_per_gas=tx.get("maxFeePerGas", tx.get("gasPrice", 0)))
            except PolicyViolation as refusal:
                self._refuse(request, now, refusal)
            signed = Account.sign_transaction(tx, key)
            tx_hash = "0x" + signed.hash.hex()
            raw = "0x" + signed.raw_transaction.hex()
            self.audit.append({**request, "time": now, "decision": "approved", "spend": _spend_json(spend),
                               "tx_hash": tx_hash, "raw": raw})
            engine.record(now, spend)
        return {"raw": raw, "tx": {**_tx_json(tx), "hash": tx_hash, "from": sender}}

    def sign_typed_data(self, address: Any, typed_data: dict[str, Any]) -> str:
        sender = _address(address, "address")
        key = self._key(sender)
        domain = typed_data.get("domain") if isinstance(typed_data.get("domain"), dict) else {}
        contract = domain.get("verifyingContract")
        try:
            digest = "0x" + typed_data_digest(typed_data).hex()
        except WalletError as exc:
            raise SignerError(str(exc), INVALID_PARAMS) from None
        request = {"method": "account_signTypedData", "from": sender, "verifyingContract": contract,
                   "primaryType": typed_data.get("primaryType"), "digest": digest}
        with self._lock:
            now = int(self.clock())
            engine = self._engine(sender, request, now)
            try:
                spend = engine.check_typed_data(now, typed_data, sender)
            except PolicyViolation as refusal:
                self._refuse(request, now, refusal)
            signature = sign_typed_data(key, typed_data)
            self.audit.append({**request, "time": now, "decision": "approved", "spend": _spend_json(spend),
                               "signature": signature})
            engine.record(now, spend)
        return signature

    def _key(self, sender: str) -> bytes:
        key = self._keys.get(sender)
        if key is None:
            raise SignerError(f"{sender} is not an account of this signer", INVALID_PARAMS)
        return key

    def _engine(self, sender: str, request: dict[str, Any], now: int) -> PolicyEngine:
        engine = self._engines.get(sender)
        if engine is None:
            self._refuse(request, now, PolicyViolation("no_policy", f"{sender} has no policy table"))
        return engine  # type: ignore[return-value]

    def _refuse(self, request: dict[str, Any], now: int, refusal: PolicyViolation) -> None:
        self.audit.append({**request, "time": now, "decision": "refused", "rule": refusal.rule,
                           "reason": refusal.detail})
        raise SignerError(str(refusal), REFUSED, refusal.rule)

    def _replay_counters(self) -> None:
        now = int(self.clock())
        for entry in self.audit.entries():
            if entry.get("decision") != "approved" or entry.get("time", 0) <= now - DAY_SECONDS:
                continue
            engine = self._engines.get(entry.get("from", ""))
            if engine is not None:
                assets = tuple((asset, int(amount)) for asset, amount in entry.get("spend", []))
                engine.record(int(entry["time"]), Spend(assets, ()))


def resolve_policies(policies: dict[str, KeyPolicy], aliases: dict[str, str]) -> dict[str, KeyPolicy]:
    """Policies keyed by address, given `aliases` (alias -> address) for the names the file uses."""
    out = {}
    for name, policy in policies.items():
        address = aliases.get(name) or (to_checksum_address(name) if is_address(name) else None)
        if address is None:
            raise WalletError(f"policy names {name!r}, which is not an unlocked account (known: {sorted(aliases)})")
        out[address] = policy
    return out


def _parse_transaction(args: dict[str, Any]) -> tuple[dict[str, Any], str]:
    sender = _address(args.get("from"), "from")
    to = args.get("to")
    data = args.get("data", args.get("input")) or "0x"
    if not isinstance(data, str) or not data.startswith("0x"):
        raise SignerError("data must be 0x-prefixed hex", INVALID_PARAMS)
    try:
        bytes.fromhex(data[2:])
    except ValueError:
        raise SignerError("data is not hex", INVALID_PARAMS) from None
    tx: dict[str, Any] = {"nonce": _quantity(args, "nonce"), "gas": _quantity(args, "gas"),
                          "value": _quantity(args, "value", 0), "data": data, "chainId": _quantity(args, "chainId")}
    if to is not None:
        tx["to"] = _address(to, "to")
    if "maxFeePerGas" in args:
        tx["type"] = 2
        tx["maxFeePerGas"] = _quantity(args, "maxFeePerGas")
        tx["maxPriorityFeePerGas"] = _quantity(args, "maxPriorityFeePerGas", 0)
        if tx["maxPriorityFeePerGas"] > tx["maxFeePerGas"]:
            raise SignerError("maxPriorityFeePerGas is above maxFeePerGas", INVALID_PARAMS)
    elif "gasPrice" in args:
        tx["gasPrice"] = _quantity(args, "gasPrice")
    else:
        raise SignerError("a transaction needs gasPrice or maxFeePerGas", INVALID_PARAMS)
    return tx, sender


def _quantity(args: dict[str, Any], name: str, default: int | None = None) -> int:
    value = args.get(name)
    if value is None:
        if default is None:
            raise SignerError(f"transaction field {name!r} is missing", INVALID_PARAMS)
        return default
    try:
        number = int(value, 16) if isinstance(value, str) else value
    except ValueError:
        raise SignerError(f"transaction field {name!r} is not a hex quantity", INVALID_PARAMS) from None
    if isinstance(number, bool) or not isinstance(number, int) or number < 0:
        raise SignerError(f"transaction field {name!r} must be a non-negative quantity", INVALID_PARAMS)
    return number


def _address(value: Any, name: str) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise SignerError(f"{name} is not an address: {value!r}", INVALID_PARAMS)
    return to_checksum_address(value)


def _spend_json(spend: Spend) -> list[list[Any]]:
    return [[asset, amount] for asset, amount in spend.assets]


def _tx_json(tx: dict[str, Any]) -> dict[str, Any]:
    return {k: (hex(v) if isinstance(v, int) else v) for k, v in tx.items() if k != "data"} | {"input": tx["data"]}
