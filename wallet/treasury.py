"""Treasury operations: sweep hot addresses down to a high-water mark into cold storage, report refills, and sum
the exchange's on-chain holdings for proof of reserves. Native coin and ERC-20s; everything through JSON-RPC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import encode
from eth_utils import to_checksum_address

from .calldata import ERC20_BALANCE_OF, ERC20_TRANSFER
from .errors import WalletError
from .rpc import Rpc
from .transactions import build_transaction, suggested_fees

NATIVE = "native"
NATIVE_TRANSFER_GAS = 21_000


@dataclass(frozen=True)
class Watermark:
    """Keep each hot address between `low` and `high` of `asset` (a token address, or "native")."""

    asset: str
    high: int
    low: int

    def __post_init__(self) -> None:
        if not 0 <= self.low <= self.high:
            raise WalletError(f"{self.asset}: need 0 <= low-water ({self.low}) <= high-water ({self.high})")


@dataclass(frozen=True)
class SweepTransfer:
    source: str
    asset: str
    amount: int
    to: str


@dataclass(frozen=True)
class Refill:
    address: str
    asset: str
    balance: int
    needed: int  # to bring it back to the high-water mark


@dataclass(frozen=True)
class SweepPlan:
    transfers: list[SweepTransfer]
    refills: list[Refill]


def balance_of(rpc: Rpc, asset: str, holder: str) -> int:
    if asset == NATIVE:
        return rpc.balance(holder)
    data = ERC20_BALANCE_OF + encode(["address"], [holder])
    return int.from_bytes(rpc.eth_call(asset, data)[-32:] or b"\0", "big")


def balances(rpc: Rpc, holder: str, tokens: list[str]) -> list[dict[str, Any]]:
    """The native coin's and each token's balance of `holder`: raw base units with the symbol and decimals to show
    them (read from the token; a token that does not answer shows as "?" with 0 decimals)."""
    from eth_abi import decode

    from .calldata import ERC20_DECIMALS, ERC20_SYMBOL
    native = {"token": None, "symbol": "native", "decimals": 18, "raw": rpc.balance(holder)}
    rows = [native]
    for token in tokens:
        address = to_checksum_address(_checked_address(token))
        symbol, decimals = "?", 0
        try:
            decimals = int.from_bytes(rpc.eth_call(address, ERC20_DECIMALS)[-32:], "big")
            symbol = decode(["string"], rpc.eth_call(address, ERC20_SYMBOL))[0]
        except Exception:  # a token without symbol()/decimals(): raw units only
            pass
        rows.append({"token": address, "symbol": symbol, "decimals": decimals,
                     "raw": balance_of(rpc, address, holder)})
    return rows


def _checked_address(value: str) -> str:
    from eth_utils import is_address
    if not is_address(value):
        raise WalletError(f"not an address: {value!r}")
    return value


def plan_sweep(rpc: Rpc, hot: list[str], cold: str, marks: list[Watermark]) -> SweepPlan:
    """What a sweep would move (tokens first, then native net of the gas those transfers cost) and who needs a refill."""
    cold = to_checksum_address(cold)
    fee_per_gas = suggested_fees(rpc)[0]
    transfers, refills = [], []
    for address in (to_checksum_address(a) for a in hot):
        if address == cold:
            raise WalletError(f"{address} is both a hot address and the cold address")
        gas_needed = 0
        for mark in sorted(marks, key=lambda m: m.asset == NATIVE):  # native last: it pays for the others' gas
            balance = balance_of(rpc, mark.asset, address)
            if mark.asset == NATIVE:
                surplus = balance - mark.high - gas_needed - NATIVE_TRANSFER_GAS * fee_per_gas
            else:
                surplus = balance - mark.high
            if surplus > 0:
                transfers.append(SweepTransfer(address, mark.asset, surplus, cold))
                if mark.asset != NATIVE:
                    gas_needed += _token_transfer_gas(rpc, address, mark.asset, cold, surplus) * fee_per_gas
            elif balance < mark.low:
                refills.append(Refill(address, mark.asset, balance, mark.high - balance))
    return SweepPlan(transfers, refills)


def execute_sweep(rpc: Rpc, plan: SweepPlan, signer: Any, wait: bool = True) -> list[str]:
    """Send every transfer, signed by `signer` (a SignerClient: keys stay in the policy signer). Returns hashes."""
    hashes = []
    for transfer in plan.transfers:
        if transfer.asset == NATIVE:
            tx = build_transaction(rpc, transfer.source, transfer.to, transfer.amount, b"", gas=NATIVE_TRANSFER_GAS)
        else:
            data = ERC20_TRANSFER + encode(["address", "uint256"], [transfer.to, transfer.amount])
            tx = build_transaction(rpc, transfer.source, transfer.asset, 0, data)
        signed = signer.sign_transaction({**tx.as_eth_account(), "from": transfer.source})
        tx_hash = rpc.send_raw(signed.raw_transaction)
        if wait:
            receipt = rpc.wait_for_receipt(tx_hash)
            if int(receipt["status"], 16) != 1:
                raise WalletError(f"sweep transfer {tx_hash} reverted")
        hashes.append(tx_hash)
    return hashes


def onchain_assets(rpc: Rpc, holders: list[str], assets: list[str]) -> dict[str, int]:
    """Total of each asset held by `holders` (hot, cold and the settlement vault contract itself)."""
    totals = {}
    for asset in assets:
        totals[asset] = sum(balance_of(rpc, asset, to_checksum_address(h)) for h in holders)
    return totals


def _token_transfer_gas(rpc: Rpc, source: str, token: str, to: str, amount: int) -> int:
    data = ERC20_TRANSFER + encode(["address", "uint256"], [to, amount])
    estimate = int(rpc.call("eth_estimateGas", {"from": source, "to": token, "data": "0x" + data.hex()}), 16)
    return estimate * 12 // 10
