"""Dev and cheat methods under anvil_* with the hardhat_* and evm_* aliases anvil accepts."""

from __future__ import annotations

from typing import Any

from ..config import MiningMode
from ..errors import InvalidParams
from ..node import Node
from ..rpc import format as fmt
from ..rpc import params as p
from ..rpc.registry import rpc


class AnvilApi:
    def __init__(self, node: Node) -> None:
        self.node = node

    # -- snapshots and mining -----------------------------------------------------------
    @rpc("evm_snapshot", "anvil_snapshot")
    def snapshot(self, params: Any) -> str:
        """Remember the current state; returns an id for evm_revert."""
        p.positional(params, 0, 0, "evm_snapshot")
        return fmt.hx(self.node.snapshot())

    @rpc("evm_revert", "anvil_revert")
    def revert(self, params: Any) -> bool:
        """Go back to a snapshot (it and later snapshots are used up)."""
        (snapshot_id,) = p.positional(params, 1, 1, "evm_revert")
        return self.node.revert(p.quantity(snapshot_id, "snapshot id"))

    @rpc("evm_mine")
    def evm_mine(self, params: Any) -> str:
        """Mine one block, or {timestamp, blocks} as anvil takes; returns "0x0"."""
        (arg,) = p.positional(params, 0, 1, "evm_mine")
        blocks, timestamp = mine_args(arg)
        if blocks > 100_000:
            raise InvalidParams("invalid blocks: at most 100000 per call")
        self.node.mine(blocks, timestamp)
        return "0x0"

    @rpc("anvil_mine", "hardhat_mine")
    def mine(self, params: Any) -> None:
        """Mine N blocks (default 1), `interval` seconds apart."""
        count, interval = p.positional(params, 0, 2, "anvil_mine")
        blocks = 1 if count is None else p.quantity(count, "blocks")
        if blocks > 100_000:
            raise InvalidParams("invalid blocks: at most 100000 per call")
        seconds = 0 if interval is None else p.quantity(interval, "interval", bits=64)
        with self.node.lock:
            _check_timestamp(max(self.node.backend.now(), self.node.backend.head.timestamp) + blocks * max(seconds, 1))
            self.node.mine(blocks, interval=seconds)
        return None

    @rpc("evm_setAutomine", "anvil_setAutomine", "hardhat_setAutomine")
    def set_automine(self, params: Any) -> None:
        """Turn automine on (one block per transaction) or off (manual)."""
        (enabled,) = p.positional(params, 1, 1, "evm_setAutomine")
        self.node.set_mode(MiningMode.AUTO if p.boolean(enabled, "enabled") else MiningMode.MANUAL)
        return None

    @rpc("anvil_getAutomine", "hardhat_getAutomine")
    def get_automine(self, params: Any) -> bool:
        """Whether automine is on."""
        p.positional(params, 0, 0, "anvil_getAutomine")
        return self.node.mode is MiningMode.AUTO

    @rpc("evm_setIntervalMining", "anvil_setIntervalMining")
    def set_interval_mining(self, params: Any) -> None:
        """Mine every N seconds (0 turns interval mining off: manual)."""
        (seconds,) = p.positional(params, 1, 1, "evm_setIntervalMining")
        value = p.quantity(seconds, "interval", bits=32)
        if value:
            self.node.set_mode(MiningMode.INTERVAL, float(value))
        else:
            self.node.set_mode(MiningMode.MANUAL)
        return None

    # -- time -----------------------------------------------------------------------------
    @rpc("evm_increaseTime", "anvil_increaseTime")
    def increase_time(self, params: Any) -> str:
        """Move the clock forward by N seconds; returns the total offset."""
        (seconds,) = p.positional(params, 1, 1, "evm_increaseTime")
        step = p.quantity(seconds, "seconds", bits=64)
        with self.node.lock:
            backend = self.node.backend
            _check_timestamp(max(backend.now(), backend.head.timestamp) + step)
            backend.time_offset += step
            return fmt.hx(backend.time_offset)

    @rpc("evm_setNextBlockTimestamp", "anvil_setNextBlockTimestamp")
    def set_next_block_timestamp(self, params: Any) -> None:
        """Fix the next block's timestamp (must not go back in time)."""
        (ts,) = p.positional(params, 1, 1, "evm_setNextBlockTimestamp")
        value = _timestamp(ts)
        with self.node.lock:
            if value < self.node.backend.head.timestamp:
                raise InvalidParams(
                    f"invalid timestamp: {value} is before the latest block's {self.node.backend.head.timestamp}")
            self.node.backend.next_timestamp = value
        return None

    @rpc("anvil_setTime", "evm_setTime")
    def set_time(self, params: Any) -> str:
        """Set the clock to a timestamp; returns the offset applied."""
        import time

        (ts,) = p.positional(params, 1, 1, "anvil_setTime")
        with self.node.lock:
            self.node.backend.time_offset = _timestamp(ts) - int(time.time())
            return fmt.hx(abs(self.node.backend.time_offset))

    # -- state edits ----------------------------------------------------------------------
    @rpc("anvil_setBalance", "hardhat_setBalance")
    def set_balance(self, params: Any) -> None:
        """Set an account's balance in wei."""
        address, value = p.positional(params, 2, 2, "anvil_setBalance")
        addr, wei = p.address(address, "address"), p.quantity(value, "balance")
        if wei >= 2**256:
            raise InvalidParams("invalid balance: must fit in 256 bits")
        self.node.edit(lambda o: o.set_balance(addr, wei))
        return None

    @rpc("anvil_setCode", "hardhat_setCode")
    def set_code(self, params: Any) -> None:
        """Replace the runtime code at an address."""
        address, code = p.positional(params, 2, 2, "anvil_setCode")
        addr, raw = p.address(address, "address"), p.data(code, "code")
        self.node.edit(lambda o: o.set_code(addr, raw))
        return None

    @rpc("anvil_setNonce", "hardhat_setNonce", "evm_setAccountNonce")
    def set_nonce(self, params: Any) -> None:
        """Set an account's nonce."""
        address, nonce = p.positional(params, 2, 2, "anvil_setNonce")
        addr, value = p.address(address, "address"), p.quantity(nonce, "nonce")
        if value >= 2**64:
            raise InvalidParams("invalid nonce: must fit in 64 bits")
        self.node.edit(lambda o: o.set_nonce(addr, value), resync=addr)
        return None

    @rpc("anvil_setStorageAt", "hardhat_setStorageAt")
    def set_storage_at(self, params: Any) -> bool:
        """Write one storage slot (value is a 32-byte word)."""
        address, slot, value = p.positional(params, 3, 3, "anvil_setStorageAt")
        addr = p.address(address, "address")
        key = p.quantity_or_hash(slot, "slot")
        word = p.data(value, "value")
        if len(word) > 32:
            raise InvalidParams("invalid value: a storage word is at most 32 bytes")

        def change(o: Any) -> None:
            o.touch_account(addr)
            o.set_storage(addr, key, int.from_bytes(word, "big"))

        self.node.edit(change)
        return True

    # -- accounts ---------------------------------------------------------------------------
    @rpc("anvil_impersonateAccount", "hardhat_impersonateAccount")
    def impersonate(self, params: Any) -> None:
        """Let eth_sendTransaction send from an address without its key."""
        (address,) = p.positional(params, 1, 1, "anvil_impersonateAccount")
        with self.node.lock:
            self.node.impersonated.add(p.address(address, "address"))
        return None

    @rpc("anvil_stopImpersonatingAccount", "hardhat_stopImpersonatingAccount")
    def stop_impersonating(self, params: Any) -> None:
        """Stop impersonating an address."""
        (address,) = p.positional(params, 1, 1, "anvil_stopImpersonatingAccount")
        with self.node.lock:
            self.node.impersonated.discard(p.address(address, "address"))
        return None

    @rpc("anvil_autoImpersonateAccount", "hardhat_autoImpersonateAccount")
    def auto_impersonate(self, params: Any) -> None:
        """Impersonate every address."""
        (enabled,) = p.positional(params, 1, 1, "anvil_autoImpersonateAccount")
        self.node.auto_impersonate = p.boolean(enabled, "enabled")
        return None

    # -- pool and block parameters ------------------------------------------------------------
    @rpc("anvil_dropTransaction", "hardhat_dropTransaction")
    def drop_transaction(self, params: Any) -> str | None:
        """Remove a pooled transaction; returns its hash, or null if it was not pooled."""
        (tx_hash,) = p.positional(params, 1, 1, "anvil_dropTransaction")
        h = p.hash32(tx_hash, "transaction hash")
        return fmt.hb(h) if self.node.drop_transaction(h) else None

    @rpc("anvil_dropAllTransactions", "hardhat_dropAllTransactions")
    def drop_all(self, params: Any) -> None:
        """Empty the pool."""
        p.positional(params, 0, 0, "anvil_dropAllTransactions")
        with self.node.lock:
            for h in list(self.node.pool.by_hash):
                self.node.drop_transaction(h)
        return None

    @rpc("anvil_setCoinbase", "hardhat_setCoinbase")
    def set_coinbase(self, params: Any) -> None:
        """Fee recipient of the next blocks."""
        (address,) = p.positional(params, 1, 1, "anvil_setCoinbase")
        with self.node.lock:
            self.node.backend.coinbase = p.address(address, "address")
        return None

    @rpc("anvil_setMinGasPrice", "hardhat_setMinGasPrice")
    def set_min_gas_price(self, params: Any) -> None:
        """Refuse transactions paying less than this per gas."""
        (price,) = p.positional(params, 1, 1, "anvil_setMinGasPrice")
        with self.node.lock:
            self.node.backend.min_gas_price = p.quantity(price, "gas price", bits=64)
        return None

    @rpc("anvil_setNextBlockBaseFeePerGas", "hardhat_setNextBlockBaseFeePerGas")
    def set_next_base_fee(self, params: Any) -> None:
        """Base fee of the next block only."""
        (fee,) = p.positional(params, 1, 1, "anvil_setNextBlockBaseFeePerGas")
        with self.node.lock:
            self.node.backend.next_base_fee = p.quantity(fee, "base fee", bits=64)
        return None

    @rpc("evm_setBlockGasLimit", "anvil_setBlockGasLimit")
    def set_block_gas_limit(self, params: Any) -> bool:
        """Gas limit of the next blocks."""
        (limit,) = p.positional(params, 1, 1, "evm_setBlockGasLimit")
        value = p.quantity(limit, "gas limit", bits=63)
        if value < 21_000:
            raise InvalidParams("invalid gas limit: at least 21000")
        with self.node.lock:
            self.node.backend.gas_limit = value
        return True

    @rpc("anvil_reset", "hardhat_reset")
    def reset(self, params: Any) -> None:
        """Start again: from genesis, or forking {forking: {jsonRpcUrl, blockNumber}} (a forked node without
        options forks the same block again)."""
        (options,) = p.positional(params, 0, 1, "anvil_reset")
        forking = options.get("forking") if isinstance(options, dict) else None
        if options is not None and not isinstance(options, dict):
            raise InvalidParams("invalid reset options: expected {forking: {jsonRpcUrl, blockNumber}}")
        if forking is None:
            self.node.reset()
            return None
        if not isinstance(forking, dict):
            raise InvalidParams("invalid forking: expected {jsonRpcUrl, blockNumber}")
        url = forking.get("jsonRpcUrl") or self.node.config.fork_url
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise InvalidParams("invalid forking.jsonRpcUrl: expected an http(s) URL")
        number = forking.get("blockNumber")
        self.node.reset_fork(url, None if number is None else p.quantity(number, "forking.blockNumber", bits=64))
        return None

    @rpc("anvil_nodeInfo")
    def node_info(self, params: Any) -> dict[str, Any]:
        """Chain id, fork, head and mining mode."""
        p.positional(params, 0, 0, "anvil_nodeInfo")
        b = self.node.backend
        return {"currentBlockNumber": fmt.hx(b.head.number), "currentBlockTimestamp": b.head.timestamp,
                "currentBlockHash": fmt.hb(b.head_hash), "hardFork": self.node.config.hardfork,
                "network": b.chain_id, "miningMode": self.node.mode.value,
                "environment": {"baseFee": str(b.pending_base_fee()), "chainId": b.chain_id,
                                "gasLimit": str(b.gas_limit), "gasPrice": str(b.min_gas_price)}}


TIMESTAMP_LIMIT = 2**64  # a header's timestamp is a uint64


def _check_timestamp(value: int) -> None:
    if value >= TIMESTAMP_LIMIT:
        raise InvalidParams("timestamp too big: block timestamps must stay below 2**64")


def _timestamp(value: Any) -> int:
    number = p.quantity(value, "timestamp", bits=64)
    _check_timestamp(number)
    return number


def mine_args(arg: Any) -> tuple[int, int | None]:
    """evm_mine's argument as anvil takes it: a timestamp, or {blocks, timestamp}."""
    blocks, timestamp = 1, None
    if isinstance(arg, dict):
        if arg.get("blocks") is not None:
            blocks = p.quantity(arg["blocks"], "blocks")
        if arg.get("timestamp") is not None:
            timestamp = _timestamp(arg["timestamp"])
    elif arg is not None:
        timestamp = _timestamp(arg)
    return blocks, timestamp
