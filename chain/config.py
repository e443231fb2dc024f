"""Node configuration: what a user sets with `bourse node` flags."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_MNEMONIC = "test test test test test test test test test test test junk"
ETHER = 10**18
GWEI = 10**9


class MiningMode(enum.Enum):
    """When blocks are made."""

    AUTO = "auto"  # one block per transaction, as soon as it arrives
    INTERVAL = "interval"  # a block every `block_time` seconds with whatever is pending
    MANUAL = "manual"  # only on evm_mine / anvil_mine


HARDFORKS = ("shanghai", "cancun", "prague", "osaka")  # oldest first


@dataclass
class NodeConfig:
    chain_id: int = 31337
    accounts: int = 10
    balance_wei: int = 10_000 * ETHER
    native_symbol: str = "ETH"  # what the banner and the explorer call the native coin
    mnemonic: str = DEFAULT_MNEMONIC
    derivation_path: str = "m/44'/60'/0'/0/"
    block_time: float | None = None
    no_mining: bool = False
    data_dir: Path | None = None
    gas_limit: int = 30_000_000
    base_fee: int = 1 * GWEI
    hardfork: str = "osaka"
    host: str = "127.0.0.1"
    port: int = 8545
    genesis_timestamp: int | None = None
    extra_genesis: dict[bytes, int] = field(default_factory=dict)
    predeploy: bool = True  # the platform contracts at their fixed addresses (--bare turns this off)
    client_version: str | None = None  # what web3_clientVersion answers (default: anvil-compatible/bourse/...)
    artifacts_dir: Path | None = None  # compiler output whose sources revert traces show (--artifacts)
    fork_url: str | None = None  # --fork-url: start from this node's block, reading its state lazily
    fork_block_number: int | None = None  # the remote block to fork at (default: its latest)
    fork_chain_id: int | None = None  # the chain id to use instead of the remote's
    fork_timeout: float = 30.0  # seconds before a remote request counts as failed
    initial_state: Any = None  # a chain.state_file.LoadedState the chain starts from (--load-state, --state)
    slots_in_an_epoch: int = 32  # "safe" is one epoch behind the head, "finalized" two (anvil's --slots-in-an-epoch)
    code_size_limit: int | None = 24_576  # EIP-170 runtime code limit; initcode twice it; None turns both off
    enable_tx_gas_limit: bool = False  # enforce EIP-7825's 2**24 cap under Osaka (anvil leaves it off by default)
    order: str = "fees"  # how blocks take pending transactions: "fees" (highest priority fee first) or "fifo"

    @property
    def mining_mode(self) -> MiningMode:
        if self.no_mining:
            return MiningMode.MANUAL
        if self.block_time:
            return MiningMode.INTERVAL
        return MiningMode.AUTO

    def validate(self) -> None:
        if self.hardfork not in HARDFORKS:
            raise ValueError(f"unknown hardfork {self.hardfork!r}; choose one of {', '.join(HARDFORKS)}")
        if self.chain_id <= 0:
            raise ValueError("chain id must be positive")
        if self.accounts < 0:
            raise ValueError("account count must not be negative")
        if not 21_000 <= self.gas_limit < 2**63:
            raise ValueError("gas limit must be at least 21000 and below 2**63")
        if not 0 <= self.base_fee < 2**64:
            raise ValueError("base fee must be between 0 and 2**64 - 1")
        if self.code_size_limit is not None and not 0 < self.code_size_limit < 2**32:
            raise ValueError("code size limit must be between 1 and 2**32 - 1 bytes")
        if self.block_time is not None and self.block_time <= 0:
            raise ValueError("block time must be positive")
