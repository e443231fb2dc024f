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


@dataclass(frozen=True)
class Predeploy:
    name: str  # artifact name
    label: str  # what the banner calls it
    address: str
    constructor: Callable[[bytes], bytes]  # owner address -> ABI-encoded constructor arguments

    def initcode(self, owner: bytes) -> bytes:
        return load(self.name).bytecode + self.constructor(owner)


PREDEPLOYS = (
    Predeploy("PlatformToken", "Platform token (BRS)", to_checksum_address("0x0000000000000000000000000000000000b05e01"),
              lambda owner: encode(["string", "string", "uint256"], [TOKEN_NAME, TOKEN_SYMBOL, TOKEN_SUPPLY])),
    Predeploy("WrappedNative", "Wrapped native (WBNB)", to_checksum_address("0x0000000000000000000000000000000000b05e02"),
              lambda owner: encode(["string", "string"], [WRAPPED_NAME, WRAPPED_SYMBOL])),
)


def address_of(name: str) -> str:
    for p in PREDEPLOYS:
        if p.name == name:
            return p.address
    raise KeyError(name)
