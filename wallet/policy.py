"""Signing policy for the hot signer: what one key may sign, checked before anything is signed or counted.

A TOML file holds one table per key (by alias or address):

    [keys.operator]
    chain_ids = [31337]                                  # chains this key signs for (typed data: the domain's)
    max_value_per_tx = { native = "5 ether", "0xToken..." = "1000000" }
    daily_limit = { native = "50 ether", "0xToken..." = "10000000" }   # rolling 24 hours, per asset
    allowlist = ["0xVault...", "0xCold..."]              # destinations: the tx `to` and any recipient or spender
    allowed_methods = ["0xa9059cbb", "settle((address,...)[])"]   # selectors or signatures; empty data is a transfer
    max_gas = 5_000_000                                  # gas limit of one transaction
    max_fee_per_gas = "200 gwei"                         # maxFeePerGas or gasPrice
    max_tx_per_minute = 120
    allow_contract_creation = false
    typed_data_contracts = ["0xVault..."]                # verifyingContracts account_signTypedData may sign for
    typed_data_types = ["Order", "Permit"]               # primary types it may sign
    max_deadline_seconds = 86_400                        # how far ahead a signed deadline/expiry may lie

Amounts are integers in base units, or with a unit for the native coin ("5 ether", "20 gwei"). A key without a
table signs nothing. Every refusal names its rule.

What counts: the native coin a transaction may spend is its value plus its maximum fee (gas x maxFeePerGas or
gasPrice); token amounts are read from the calldata by `call_effects` (transfers, approvals and allowance
increases, permits, router swaps and liquidity, multicall batches); a typed-data Permit counts its value and an
Order what it sells. Calldata the policy cannot decode in full is refused unless `allowed_methods` names the
method (its amounts are then not counted); `allowed_methods`, when present, also limits the methods it can decode.
Typed data of a primary type the policy cannot read is refused unless `typed_data_types` names it; when present,
`typed_data_types` also limits the types it can read. Other rules that are absent do not restrict.
"""

from __future__ import annotations

import tomllib
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import function_signature_to_4byte_selector, is_address, to_checksum_address

from .call_effects import NATIVE, Undecodable, call_effects
from .errors import PolicyError, PolicyViolation, WalletError
from .typed_effects import TypedDataUnreadable, typed_effects
from .units import parse_amount

DAY_SECONDS = 86_400
MINUTE_SECONDS = 60
RULES = ("chain_ids", "max_value_per_tx", "daily_limit", "allowlist", "allowed_methods", "max_gas",
         "max_fee_per_gas", "max_tx_per_minute", "allow_contract_creation", "typed_data_contracts",
         "typed_data_types", "max_deadline_seconds")


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
    max_gas: int | None = None
    max_fee_per_gas: int | None = None
    max_tx_per_minute: int | None = None
    allow_contract_creation: bool = False
    typed_data_contracts: frozenset[str] = frozenset()
    typed_data_types: frozenset[str] | None = None
    max_deadline_seconds: int | None = None

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
                max_gas=_count(table, "max_gas"),
                max_fee_per_gas=_native(str(table["max_fee_per_gas"])) if "max_fee_per_gas" in table else None,
                max_tx_per_minute=_count(table, "max_tx_per_minute"),
                allow_contract_creation=_flag(table.get("allow_contract_creation", False)),
                typed_data_contracts=frozenset(_address(a) for a in table.get("typed_data_contracts", [])),
                typed_data_types=frozenset(_type_name(t) for t in table["typed_data_types"])
                if "typed_data_types" in table else None,
                max_deadline_seconds=_count(table, "max_deadline_seconds"),
            )
        except (TypeError, ValueError, AttributeError, WalletError) as exc:
            raise PolicyError(f"policy for {name}: {exc}") from None


def load_policies(path: Path) -> dict[str, KeyPolicy]:
    """Policies by the key names used in the file (aliases or addresses)."""
    try:
        document = tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise PolicyError(f"policy file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"policy file {path} cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"policy file {path}: {exc}") from None
    keys = document.get("keys")
    if not isinstance(keys, dict) or not keys:
        raise PolicyError(f"policy file {path} has no [keys.<alias>] tables")
    for name, table in keys.items():
        if not isinstance(table, dict):
            raise PolicyError(f"policy file {path}: keys.{name} must be a table")
    return {name: KeyPolicy.parse(name, table) for name, table in keys.items()}


class PolicyEngine:
    """Checks requests against one key's policy and keeps its counters (timestamps in seconds)."""

    def __init__(self, policy: KeyPolicy) -> None:
        self.policy = policy
        self._spent: deque[tuple[int, str, int]] = deque()  # (time, asset, amount), oldest first
        self._requests: deque[int] = deque()  # times of signed requests

    def check_transaction(self, now: int, chain_id: int, to: str | None, value: int, data: bytes, *,
                          gas: int = 0, fee_per_gas: int = 0) -> Spend:
        """The spend this transaction would record (its value and maximum fee in the native coin, the token
        amounts its calldata moves); PolicyViolation, and no change, if a rule forbids it."""
        policy = self.policy
        self._check_chain(chain_id)
        if policy.max_gas is not None and gas > policy.max_gas:
            raise PolicyViolation("max_gas", f"gas limit {gas} is above the cap {policy.max_gas}")
        if policy.max_fee_per_gas is not None and fee_per_gas > policy.max_fee_per_gas:
            raise PolicyViolation("max_fee_per_gas", f"fee per gas {fee_per_gas} wei is above the cap "
                                                     f"{policy.max_fee_per_gas} wei")
        if to is None and not policy.allow_contract_creation:
            raise PolicyViolation("allow_contract_creation", "this key may not create contracts")
        to = None if to is None else _address(to)
        native = value + gas * fee_per_gas
        assets: list[tuple[str, int]] = [(NATIVE, native)] if native else []
        destinations: list[str] = [to] if to else []
        if to is not None and data:
            try:
                effect = call_effects(to, data, policy.allowed_methods or frozenset())
            except Undecodable as exc:
                raise PolicyViolation("calldata", f"{exc}; name the method in allowed_methods to sign it "
                                                  "without the policy counting what it moves") from None
            if policy.allowed_methods is not None:
                for selector, method in zip(effect.selectors, effect.methods, strict=True):
                    if selector not in policy.allowed_methods:
                        raise PolicyViolation("allowed_methods", f"method {method} (0x{selector.hex()}) is not "
                                                                 "allowed")
            assets += effect.assets
            destinations += effect.destinations
        spend = Spend(_merged(assets), tuple(destinations))
        self._check_destinations(spend)
        self._check_amounts(now, spend)
        self._check_rate()
        return spend

    def check_typed_data(self, now: int, typed_data: dict[str, Any], signer: str) -> Spend:
        """The spend signing this EIP-712 message would record; PolicyViolation, and no change, if a rule forbids
        it (verifying contract, domain chain id, primary type, spender, amount, deadline)."""
        policy = self.policy
        try:
            effect = typed_effects(typed_data, _address(signer))
        except TypedDataUnreadable as exc:
            raise PolicyViolation("typed_data", str(exc)) from None
        if effect.contract is None or effect.contract not in policy.typed_data_contracts:
            raise PolicyViolation("typed_data_contracts",
                                  f"typed data for {effect.contract or 'no contract'} is not allowed")
        if policy.chain_ids is not None:
            if effect.chain_id is None:
                raise PolicyViolation("chain_ids", "the typed data's domain names no chainId")
            self._check_chain(effect.chain_id)
        allowed_types = policy.typed_data_types
        if allowed_types is not None and effect.primary_type not in allowed_types:
            raise PolicyViolation("typed_data_types", f"primary type {effect.primary_type!r} is not one of "
                                                      f"{sorted(allowed_types)}")
        if allowed_types is None and not effect.known:
            raise PolicyViolation("typed_data_types", f"primary type {effect.primary_type!r} is not one the policy "
                                                      "can read; name it in typed_data_types to sign it")
        if policy.max_deadline_seconds is not None:
            latest = now + policy.max_deadline_seconds
            for deadline in effect.deadlines:
                if deadline > latest:
                    raise PolicyViolation("max_deadline_seconds", f"deadline {deadline} is more than "
                                                                  f"{policy.max_deadline_seconds} s ahead")
        spend = Spend(_merged(list(effect.assets)), effect.destinations)
        self._check_destinations(spend)
        self._check_amounts(now, spend)
        self._check_rate()
        return spend

    def record(self, now: int, spend: Spend | None) -> None:
        """Count a request that was signed."""
        self._requests.append(now)
        for asset, amount in spend.assets if spend else ():
            self._spent.append((now, asset, amount))

    def _check_chain(self, chain_id: int) -> None:
        chains = self.policy.chain_ids
        if chains is not None and chain_id not in chains:
            raise PolicyViolation("chain_ids", f"chain {chain_id} is not one of {sorted(chains)}")

    def _check_destinations(self, spend: Spend) -> None:
        if self.policy.allowlist is not None:
            for destination in spend.destinations:
                if destination not in self.policy.allowlist:
                    raise PolicyViolation("allowlist", f"{destination} is not an allowed destination")

    def _check_amounts(self, now: int, spend: Spend) -> None:
        policy = self.policy
        for asset, amount in spend.assets:
            cap = policy.max_value_per_tx.get(asset)
            if cap is not None and amount > cap:
                raise PolicyViolation("max_value_per_tx", f"{amount} of {asset} is above the {cap} per-request cap")
        self._expire(now)
        for asset, amount in spend.assets:
            limit = policy.daily_limit.get(asset)
            if limit is not None:
                used = sum(a for _, asset_, a in self._spent if asset_ == asset)
                if used + amount > limit:
                    raise PolicyViolation("daily_limit", f"{amount} of {asset} would bring the last 24 hours to "
                                                         f"{used + amount}, above the limit {limit}")

    def _check_rate(self) -> None:
        cap = self.policy.max_tx_per_minute
        if cap is not None and len(self._requests) >= cap:
            raise PolicyViolation("max_tx_per_minute", f"{cap} requests were signed in the last minute")

    def _expire(self, now: int) -> None:
        while self._spent and self._spent[0][0] <= now - DAY_SECONDS:
            self._spent.popleft()
        while self._requests and self._requests[0] <= now - MINUTE_SECONDS:
            self._requests.popleft()


def _merged(assets: list[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    """One entry per asset (a multicall may move the same token twice; the caps apply to the sum)."""
    totals: dict[str, int] = {}
    for asset, amount in assets:
        totals[asset] = totals.get(asset, 0) + amount
    return tuple(totals.items())


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


def _count(table: dict[str, Any], name: str) -> int | None:
    if name not in table:
        return None
    value = table[name]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"allow_contract_creation must be true or false, got {value!r}")
    return value


def _type_name(value: Any) -> str:
    if not isinstance(value, str) or not value.isidentifier():
        raise ValueError(f"not an EIP-712 type name: {value!r}")
    return value


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
