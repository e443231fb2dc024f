"""The platform contracts `bourse node` starts with, at fixed addresses.

The node runs each constructor in genesis at its address, from dev account 0
(which owns them), so addresses are the same on every start and account 0's
nonce stays 0, as on anvil.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from eth_abi import encode
from eth_utils import to_checksum_address

from .artifacts import load

TOKEN_NAME = "Bourse Coin"
TOKEN_SYMBOL = "BRS"
TOKEN_SUPPLY = 100_000_000 * 10**18  # fixed, minted to the owner
WRAPPED_NAME = "Wrapped BNB"
WRAPPED_SYMBOL = "WBNB"


SWAP_FEE_BPS = 25  # PancakeSwap v2's 0.25%
FEE_DISCOUNT_BPS = 2_500  # 25% off fees paid in the platform token, as BNB's launch discount
WITHDRAWAL_DELAY_BLOCKS = 100  # escape hatch: blocks between request and withdrawal


def _addr(suffix: int) -> str:
    return to_checksum_address(f"0x{0xB05E00 + suffix:040x}")


@dataclass(frozen=True)
class Predeploy:
    name: str  # artifact name
    label: str  # what the banner calls it
    address: str
    constructor: Callable[[bytes], bytes]  # owner address -> ABI-encoded constructor arguments
    blueprint: bool = False

    def initcode(self, owner: bytes) -> bytes:
        artifact = load(self.name)
        if self.blueprint:
            return artifact.blueprint_bytecode
        return artifact.bytecode + self.constructor(owner)


PREDEPLOYS = (
    Predeploy("PlatformToken", "Platform token (BRS)", _addr(1),
              lambda owner: encode(["string", "string", "uint256"], [TOKEN_NAME, TOKEN_SYMBOL, TOKEN_SUPPLY])),
    Predeploy("WrappedNative", "Wrapped native (WBNB)", _addr(2),
              lambda owner: encode(["string", "string"], [WRAPPED_NAME, WRAPPED_SYMBOL])),
    Predeploy("AmmPair", "AMM pair blueprint", _addr(3), lambda owner: b"", blueprint=True),
    Predeploy("AmmFactory", "AMM factory", _addr(4),
              lambda owner: encode(["address", "uint256", "address"], [_addr(3), SWAP_FEE_BPS, owner])),
    Predeploy("AmmRouter", "AMM router", _addr(5), lambda owner: encode(["address", "address"], [_addr(4), _addr(2)])),
    Predeploy("SettlementVault", "Settlement vault", _addr(6),
              lambda owner: encode(["address", "uint256", "uint256"], [_addr(1), FEE_DISCOUNT_BPS,
                                                                        WITHDRAWAL_DELAY_BLOCKS])),
    Predeploy("Launchpad", "Launchpad (token sales)", _addr(7), lambda owner: encode(["address"], [_addr(1)])),
    Predeploy("MerkleDistributor", "Trade-mining distributor", _addr(8),
              lambda owner: encode(["address", "address"], [_addr(1), owner])),
    Predeploy("ListingVote", "Listing vote", _addr(9), lambda owner: encode(["address"], [_addr(1)])),
)


def address_of(name: str) -> str:
    for p in PREDEPLOYS:
        if p.name == name:
            return p.address
    raise KeyError(name)
