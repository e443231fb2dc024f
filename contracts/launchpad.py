"""The Launchpad's calls and views as plain data (calldata builders, decoded reads), for the CLI and tests.

Amounts are integers in token base units; prices are BRS units per token unit x PRICE_SCALE, as the contract keeps
them. Reads take any `call(to, data) -> bytes` (an eth_call), so this module needs no node library.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Callable

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector

PRICE_SCALE = 10**18
SALE_FIELDS = ("token", "price", "supply", "capRatio", "holdStart", "holdEnd", "subscribeStart", "subscribeEnd",
               "claimTime", "totalLocked", "totalCommitted", "raised", "collected", "allocated", "claimedCommitted",
               "unsoldWithdrawn")
Call = Callable[[str, bytes], bytes]


def calldata(signature: str, types: list[str], values: list[Any]) -> bytes:
    return function_signature_to_4byte_selector(signature) + encode(types, values)


def create_sale(token: str, price: int, supply: int, cap_ratio: int, times: tuple[int, int, int, int, int]) -> bytes:
    return calldata("createSale(address,uint256,uint256,uint256,uint256,uint256,uint256,uint256,uint256)",
                    ["address"] + ["uint256"] * 8, [token, price, supply, cap_ratio, *times])


def sale_call(name: str, sale_id: int, amount: int | None = None) -> bytes:
    """lock / commit (with an amount), claim / collectRaised / withdrawUnsold (without)."""
    if amount is None:
        return calldata(f"{name}(uint256)", ["uint256"], [sale_id])
    return calldata(f"{name}(uint256,uint256)", ["uint256", "uint256"], [sale_id, amount])


@dataclass(frozen=True)
class Sale:
    token: str
    price: int
    supply: int
    capRatio: int  # noqa: N815 - the contract's names
    holdStart: int  # noqa: N815
    holdEnd: int  # noqa: N815
    subscribeStart: int  # noqa: N815
    subscribeEnd: int  # noqa: N815
    claimTime: int  # noqa: N815
    totalLocked: int  # noqa: N815
    totalCommitted: int  # noqa: N815
    raised: int
    collected: int
    allocated: int
    claimedCommitted: int  # noqa: N815
    unsoldWithdrawn: int  # noqa: N815

    @property
    def demand(self) -> int:
        """Tokens the total commitment would buy at the price."""
        return self.totalCommitted * PRICE_SCALE // self.price

    @property
    def oversubscription(self) -> float:
        """Demand over supply (a display ratio: above 1, allocations are pro rata)."""
        return self.demand / self.supply

    def phase(self, now: int) -> str:
        if now < self.holdStart:
            return "upcoming"
        if now < self.holdEnd:
            return "holding"
        if now < self.subscribeStart:
            return "between"
        if now < self.subscribeEnd:
            return "subscribing"
        if now < self.claimTime:
            return "calculating"
        return "claiming"

    def as_json(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, int) else v) for k, v in asdict(self).items()}


def read_sale(call: Call, launchpad: str, sale_id: int) -> Sale:
    raw = call(launchpad, calldata("sales(uint256)", ["uint256"], [sale_id]))
    values = decode(["address"] + ["uint256"] * 15, raw)
    return Sale(*values)


def read_user(call: Call, launchpad: str, sale_id: int, user: str) -> dict[str, int | bool]:
    def one(signature: str, types: list[str]) -> Any:
        return decode(types, call(launchpad, calldata(signature, ["uint256", "address"], [sale_id, user])))

    allocation, payment, refund = one("allocationOf(uint256,address)", ["uint256", "uint256", "uint256"])
    return {"locked": one("locked(uint256,address)", ["uint256"])[0],
            "committed": one("committed(uint256,address)", ["uint256"])[0],
            "cap": one("cap(uint256,address)", ["uint256"])[0], "claimed": one("claimed(uint256,address)", ["bool"])[0],
            "allocation": allocation, "payment": payment, "refund": refund}


def sale_count(call: Call, launchpad: str) -> int:
    return int(decode(["uint256"], call(launchpad, calldata("saleCount()", [], [])))[0])


def unsold(call: Call, launchpad: str, sale_id: int) -> int:
    return int(decode(["uint256"], call(launchpad, calldata("unsold(uint256)", ["uint256"], [sale_id])))[0])
