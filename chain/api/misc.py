"""web3_*, net_*, txpool_* and the polling-filter methods."""

from __future__ import annotations

from typing import Any

from .. import __version__
from ..errors import InvalidParams
from ..filters import log_query
from ..hashing import keccak
from ..node import Node
from ..rpc import format as fmt
from ..rpc import params as p
from ..rpc.registry import rpc
from .chain_data import ChainDataApi


def default_client_version() -> str:
    return f"anvil-compatible/bourse/v{__version__}/python"


class MiscApi:
    def __init__(self, node: Node, data: ChainDataApi) -> None:
        self.node = node
        self.data = data

    @rpc("web3_clientVersion")
    def client_version(self, params: Any) -> str:
        """Name and version of this node: `anvil-compatible/bourse/v<version>/python` by default. Tools that only
        drive anvil or hardhat nodes check the start of it (hardhat-network-helpers: "anvil" or
        "hardhatnetwork"; ape-foundry: "anvil" anywhere), and this node serves the anvil API they then use."""
        p.positional(params, 0, 0, "web3_clientVersion")
        return self.node.config.client_version or default_client_version()

    @rpc("bourse_registerArtifact")
    def register_artifact(self, params: Any) -> int:
        """Register compiler output (hardhat build-info, solc standard-JSON output, Vyper combined_json or a Bourse
        artifact) so revert traces show its sources; how many contracts it added."""
        (document,) = p.positional(params, 1, 1, "bourse_registerArtifact")
        from ..sources import parse
        found = parse(document)
        if not found:
            raise InvalidParams("invalid artifact: no contract with runtime bytecode and a source map in it")
        with self.node.lock:
            for info in found:
                self.node.sources.add(info)
        return len(found)

    @rpc("web3_sha3")
    def sha3(self, params: Any) -> str:
        """Keccak-256 of the given data."""
        (value,) = p.positional(params, 1, 1, "web3_sha3")
        return fmt.hb(keccak(p.data(value, "data")))

    @rpc("net_version")
    def net_version(self, params: Any) -> str:
        """Network id (the chain id, in decimal)."""
        p.positional(params, 0, 0, "net_version")
        return str(self.node.backend.chain_id)

    @rpc("net_listening")
    def net_listening(self, params: Any) -> bool:
        """Always true."""
        p.positional(params, 0, 0, "net_listening")
        return True

    @rpc("net_peerCount")
    def net_peer_count(self, params: Any) -> str:
        """Always 0: a dev node has no peers."""
        p.positional(params, 0, 0, "net_peerCount")
        return "0x0"

    # -- txpool --------------------------------------------------------------------------
    @rpc("txpool_status")
    def txpool_status(self, params: Any) -> dict[str, str]:
        """Counts of ready (pending) and gapped (queued) transactions."""
        p.positional(params, 0, 0, "txpool_status")
        with self.node.lock:
            return {"pending": fmt.hx(len(self.node.pool.ready())), "queued": fmt.hx(len(self.node.pool.queued()))}

    @rpc("txpool_content")
    def txpool_content(self, params: Any) -> dict[str, Any]:
        """Pooled transactions by sender and nonce."""
        p.positional(params, 0, 0, "txpool_content")
        out: dict[str, Any] = {"pending": {}, "queued": {}}
        with self.node.lock:
            for key, txs in (("pending", self.node.pool.ready()), ("queued", self.node.pool.queued())):
                for tx in txs:
                    by_sender = out[key].setdefault(fmt.addr(tx.sender), {})
                    by_sender[str(tx.nonce)] = fmt.tx_json(tx.raw, tx.hash, tx.sender, None, None)
        return out

    @rpc("txpool_inspect")
    def txpool_inspect(self, params: Any) -> dict[str, Any]:
        """One-line summaries of pooled transactions."""
        p.positional(params, 0, 0, "txpool_inspect")
        out: dict[str, Any] = {"pending": {}, "queued": {}}
        with self.node.lock:
            for key, txs in (("pending", self.node.pool.ready()), ("queued", self.node.pool.queued())):
                for tx in txs:
                    to = fmt.addr(tx.tx.to) if tx.tx.to else "contract creation"
                    out[key].setdefault(fmt.addr(tx.sender), {})[str(tx.nonce)] = (
                        f"{to}: {tx.tx.value} wei + {tx.tx.gas} gas × {tx.max_fee()} wei")
        return out

    # -- filters ----------------------------------------------------------------------------
    @rpc("eth_newFilter")
    def new_filter(self, params: Any) -> str:
        """Install a log filter; poll it with eth_getFilterChanges."""
        (flt,) = p.positional(params, 1, 1, "eth_newFilter")
        query = log_query(flt)
        with self.node.lock:
            return self.node.filters.install("logs", query)

    @rpc("eth_newBlockFilter")
    def new_block_filter(self, params: Any) -> str:
        """Install a filter that collects new block hashes."""
        p.positional(params, 0, 0, "eth_newBlockFilter")
        with self.node.lock:
            return self.node.filters.install("blocks")

    @rpc("eth_newPendingTransactionFilter")
    def new_pending_filter(self, params: Any) -> str:
        """Install a filter that collects hashes of newly pooled transactions."""
        p.positional(params, 0, 1, "eth_newPendingTransactionFilter")
        with self.node.lock:
            return self.node.filters.install("pending")

    @rpc("eth_getFilterChanges")
    def get_filter_changes(self, params: Any) -> list[Any]:
        """What a filter collected since the last poll."""
        (filter_id,) = p.positional(params, 1, 1, "eth_getFilterChanges")
        with self.node.lock:
            return self.node.filters.take(_filter_id(filter_id))

    @rpc("eth_getFilterLogs")
    def get_filter_logs(self, params: Any) -> list[Any]:
        """Every log matching a log filter's criteria."""
        (filter_id,) = p.positional(params, 1, 1, "eth_getFilterLogs")
        with self.node.lock:
            found = self.node.filters.get(_filter_id(filter_id))
            if found.query is None:
                from ..errors import InvalidParams

                raise InvalidParams(f"filter {filter_id} is not a log filter")
            return self.data.logs(found.query)

    @rpc("eth_uninstallFilter")
    def uninstall_filter(self, params: Any) -> bool:
        """Remove a filter; false if it did not exist."""
        (filter_id,) = p.positional(params, 1, 1, "eth_uninstallFilter")
        with self.node.lock:
            return self.node.filters.uninstall(_filter_id(filter_id))


def _filter_id(value: Any) -> str:
    return hex(p.quantity(value, "filter id"))
