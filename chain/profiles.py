"""Chain presets for `bourse node --chain`: the local dev chain (anvil's defaults), and BNB Smart Chain's
mainnet and testnet settings - what a user switches to before pointing the same wallet and exchange at BSC itself,
so that chain ids, block gas limits, block intervals and the native coin's name already match.

BSC's figures are those since its Maxwell hard fork (June 2025): a block every 0.75 s with a 35,000,000 gas limit
(Lorentz had 1.5 s and 70M, and before it 3 s and 140M: the gas per second stayed the same).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChainProfile:
    name: str
    chain_id: int
    gas_limit: int
    block_time: float | None  # None: a block per transaction (automine)
    native_symbol: str
    description: str


PROFILES = {
    "dev": ChainProfile("dev", 31337, 30_000_000, None, "ETH", "local dev chain (anvil's and hardhat's defaults)"),
    "bsc": ChainProfile("bsc", 56, 35_000_000, 0.75, "BNB", "BNB Smart Chain mainnet settings"),
    "bsc-testnet": ChainProfile("bsc-testnet", 97, 35_000_000, 0.75, "tBNB", "BNB Smart Chain testnet settings"),
}


def resolve(name: str, chain_id: int | None, gas_limit: int | None, block_time: float | None,
            no_mining: bool) -> tuple[ChainProfile, int, int, float | None]:
    """The profile and the chain id, gas limit and block time to use: what was given explicitly, else the
    profile's (no block time when mining is off)."""
    profile = PROFILES[name]
    chosen_time = block_time if block_time is not None else (None if no_mining else profile.block_time)
    return profile, chain_id or profile.chain_id, gas_limit or profile.gas_limit, chosen_time
