"""Signing policy for the hot signer: what one key may sign, checked before anything is signed or counted.

A TOML file holds one table per key (by alias or address):

    [keys.operator]
    chain_ids = [31337]                                  # optional: chains this key signs for
    max_value_per_tx = { native = "5 ether", "0xToken..." = "1000000" }
    daily_limit = { native = "50 ether", "0xToken..." = "10000000" }   # rolling 24 hours, per asset
    allowlist = ["0xVault...", "0xCold..."]              # destinations: the tx `to` and any ERC-20 recipient
    allowed_methods = ["0xa9059cbb", "settle((address,...)[])"]   # selectors or signatures; empty data is a transfer
    max_tx_per_minute = 120
    allow_contract_creation = false
    typed_data_contracts = ["0xVault..."]                # verifyingContracts account_signTypedData may sign for

Amounts are integers in base units, or with a unit for the native coin ("5 ether", "20 gwei"). A key without a
table signs nothing. Rules that are absent do not restrict. Every refusal names its rule.
"""

from __future__ import annotations

import tomllib
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import function_signature_to_4byte_selector, is_address, to_checksum_address

from .calldata import decode_token_call
from .errors import PolicyError, PolicyViolation, WalletError
from .units import parse_amount

NATIVE = "native"
DAY_SECONDS = 86_400
MINUTE_SECONDS = 60
RULES = ("chain_ids", "max_value_per_tx", "daily_limit", "allowlist", "allowed_methods", "max_tx_per_minute",
         "allow_contract_creation", "typed_data_contracts")


@dataclass(frozen=True)
class Spend:
    """What one request moves: (asset, amount) pairs, and where to."""

    assets: tuple[tuple[str, int], ...]
    destinations: tuple[str, ...]


@dataclass(frozen=True)
class KeyPolicy:
    chain_ids: frozenset[int] | None = None
    max_value_per_tx: dict[str, int] = field(default_factory=dict)
    daily_limit: dict[str, int] = field(default_factory=dict)
    allowlist: frozenset[str] | None = None
    allowed_methods: frozenset[bytes] | None = None
    max_tx_per_minute: int | None = None
    allow_contract_creation: bool = False
    typed_data_contracts: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, name: str, table: dict[str, Any]) -> KeyPolicy:
        unknown = set(table) - set(RULES)
        if unknown:
            raise PolicyError(f"policy for {name}: unknown rule(s) {', '.join(sorted(unknown))} "
                              f"(known: {', '.join(RULES)})")
        try:
            return cls(
                chain_ids=frozenset(int(c) for c in table["chain_ids"]) if "chain_ids" in table else None,
                max_value_per_tx=_asset_amounts(table.get("max_value_per_tx", {})),
                daily_limit=_asset_amounts(table.get("daily_limit", {})),
                allowlist=frozenset(_address(a) for a in table["allowlist"]) if "allowlist" in table else None,
                allowed_methods=frozenset(_selector(m) for m in table["allowed_methods"])
                if "allowed_methods" in table else None,
                max_tx_per_minute=int(table["max_tx_per_minute"]) if "max_tx_per_minute" in table else None,
                allow_contract_creation=bool(table.get("allow_contract_creation", False)),
                typed_data_contracts=frozenset(_address(a) for a in table.get("typed_data_contracts", [])),
            )
        except (TypeError, ValueError, AttributeError, WalletError) as exc:
            raise PolicyError(f"policy for {name}: {exc}") from None


def load_policies(path: Path) -> dict[str, KeyPolicy]:
    """Policies by the key names used in the file (aliases or addresses)."""
    try:
        document = tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise PolicyError(f"policy file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"policy file {path}: {exc}") from None
    keys = document.get("keys")
    if not isinstance(keys, dict) or not keys:
        raise PolicyError(f"policy file {path} has no [keys.<alias>] tables")
    return {name: KeyPolicy.parse(name, table) for name, table in keys.items()}


def transaction_spend(to: str | None, value: int, data: bytes) -> Spend:
    assets: list[tuple[str, int]] = [(NATIVE, value)] if value else []
    destinations = [to] if to else []
    call = decode_token_call(data) if to else None
    if call is not None and call.method in ("transfer", "transferFrom"):
        assets.append((to, call.amount))  # type: ignore[arg-type]
    if call is not None:
        destinations.append(call.recipient)
    return Spend(tuple(assets), tuple(destinations))


class PolicyEngine:
    """Checks requests against one key's policy and keeps its counters (timestamps in seconds)."""

    def __init__(self, policy: KeyPolicy) -> None:
        self.policy = policy
        self._spent: deque[tuple[int, str, int]] = deque()  # (time, asset, amount), oldest first
        self._requests: deque[int] = deque()  # times of signed requests

    def check_transaction(self, now: int, chain_id: int, to: str | None, value: int, data: bytes) -> Spend:
        """The spend this transaction would record; PolicyViolation (and no change) if a rule forbids it."""
        policy = self.policy
        if policy.chain_ids is not None and chain_id not in policy.chain_ids:
            raise PolicyViolation("chain_ids", f"chain {chain_id} is not one of {sorted(policy.chain_ids)}")
        if to is None and not policy.allow_contract_creation:
            raise PolicyViolation("allow_contract_creation", "this key may not create contracts")
        to = None if to is None else _address(to)
        spend = transaction_spend(to, value, data)
        if policy.allowlist is not None:
            for destination in spend.destinations:
                if destination not in policy.allowlist:
                    raise PolicyViolation("allowlist", f"{destination} is not an allowed destination")
        if policy.allowed_methods is not None and to is not None and data:
            if data[:4] not in policy.allowed_methods:
                raise PolicyViolation("allowed_methods", f"method 0x{data[:4].hex()} is not allowed")
        for asset, amount in spend.assets:
            cap = policy.max_value_per_tx.get(asset)
            if cap is not None and amount > cap:
                raise PolicyViolation("max_value_per_tx", f"{amount} of {asset} is above the {cap} per-transaction cap")
        self._expire(now)
        for asset, amount in spend.assets:
            limit = policy.daily_limit.get(asset)
            if limit is not None:
                used = sum(a for _, asset_, a in self._spent if asset_ == asset)
                if used + amount > limit:
                    raise PolicyViolation("daily_limit", f"{amount} of {asset} would bring the last 24 hours to "
                                                         f"{used + amount}, above the limit {limit}")
        self._check_rate()
        return spend

    def check_typed_data(self, now: int, verifying_contract: str | None) -> None:
        if verifying_contract is None or _address(verifying_contract) not in self.policy.typed_data_contracts:
            raise PolicyViolation("typed_data_contracts",
                                  f"typed data for {verifying_contract or 'no contract'} is not allowed")
        self._expire(now)
        self._check_rate()

    def record(self, now: int, spend: Spend | None) -> None:
        """Count a request that was signed."""
        self._requests.append(now)
        for asset, amount in spend.assets if spend else ():
            self._spent.append((now, asset, amount))

    def _check_rate(self) -> None:
        cap = self.policy.max_tx_per_minute
        if cap is not None and len(self._requests) >= cap:
            raise PolicyViolation("max_tx_per_minute", f"{cap} requests were signed in the last minute")

    def _expire(self, now: int) -> None:
        while self._spent and self._spent[0][0] <= now - DAY_SECONDS:
            self._spent.popleft()
        while self._requests and self._requests[0] <= now - MINUTE_SECONDS:
            self._requests.popleft()


def _asset_amounts(table: dict[str, Any]) -> dict[str, int]:
    out = {}
    for asset, amount in table.items():
        key = NATIVE if asset == NATIVE else _address(asset)
        if isinstance(amount, bool) or not isinstance(amount, (int, str)):
            raise ValueError(f"amount for {asset} must be an integer or a string like '5 ether'")
        value = amount if isinstance(amount, int) else (parse_amount(amount.replace(" ", ""), 0)
                                                         if key != NATIVE else _native(amount))
        if value < 0:
            raise ValueError(f"amount for {asset} is negative")
        out[key] = value
    return out


def _native(text: str) -> int:
    compact = text.replace(" ", "")
    return parse_amount(compact, 0) if compact.isdigit() else parse_amount(compact)


def _address(value: str) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise ValueError(f"not an address: {value!r}")
    return to_checksum_address(value)


def _selector(value: str) -> bytes:
    if value.startswith("0x") and len(value) == 10:
        return bytes.fromhex(value[2:])
    if "(" in value:
        return function_signature_to_4byte_selector(value.replace(" ", ""))
    raise ValueError(f"not a selector or signature: {value!r}")
