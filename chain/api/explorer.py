"""bourse_explorerInfo, bourse_contractInfo, bourse_decodeTransaction: what the block explorer page asks the node.

A transaction is decoded with the ABIs of the contracts whose code the node knows (the platform contracts,
`--artifacts`, `bourse_registerArtifact`): its call, its logs, its revert reason (Error, Panic or a custom error)
and its call tree, each call named where its callee is known. Nothing here changes state.
"""

from __future__ import annotations

from typing import Any

from ..abi_decode import Decoder, revert_reason
from ..errors import ResourceNotFound
from ..node import Node
from ..rpc import format as fmt
from ..rpc import params as p
from ..rpc.registry import rpc
from ..tracing.calls import Call, CallTracer
from ..tracing.replay import replay_transaction
from .chain_data import ChainDataApi

MAX_TRACE_CALLS = 2_000  # a call tree larger than this is cut (the page says so)


class ExplorerApi:
    def __init__(self, node: Node, data: ChainDataApi) -> None:
        self.node = node
        self.data = data
        self._decoders: dict[int, Decoder] = {}

    @rpc("bourse_explorerInfo")
    def explorer_info(self, params: Any) -> dict[str, Any]:
        """Chain id, the native coin's symbol, mining mode (auto, interval with its block time, or manual) and the
        platform contracts."""
        p.positional(params, 0, 0, "bourse_explorerInfo")
        node = self.node
        platform = []
        if node.config.predeploy and node.config.fork_url is None:
            from contracts.predeploy import PREDEPLOYS
            with node.lock:
                head = node.backend.resolve_block("latest")
                for item in PREDEPLOYS:
                    address = bytes.fromhex(item.address[2:])
                    if node.backend.code(address, head):
                        platform.append({"label": item.label, "name": item.name, "address": item.address})
        return {"chainId": fmt.hx(node.config.chain_id), "nativeSymbol": node.config.native_symbol,
                "miningMode": node.mode.value,
                "blockTime": node.block_time if node.mode.value == "interval" else None, "platform": platform}

    @rpc("bourse_contractInfo")
    def contract_info(self, params: Any) -> dict[str, Any] | None:
        """The contract at an address as the node knows it: name, ABI and sources; null if its code is unknown."""
        (address,) = p.positional(params, 1, 1, "bourse_contractInfo")
        found = self._source(p.address(address, "address"))
        if found is None:
            return None
        sources = [{"path": path, "content": "\n".join(found.texts[i])} for i, path in enumerate(found.files)
                   if i in found.texts]
        return {"name": found.name, "abi": found.abi, "sources": sources}

    @rpc("bourse_decodeTransaction")
    def decode_transaction(self, params: Any) -> dict[str, Any]:
        """A transaction decoded: its call, logs, revert reason and call tree, with the contracts' names."""
        (tx_hash,) = p.positional(params, 1, 1, "bourse_decodeTransaction")
        hash_bytes = p.hash32(tx_hash, "transaction hash")
        tx = self.data.get_transaction_by_hash([fmt.hb(hash_bytes)])
        receipt = self.data.get_transaction_receipt([fmt.hb(hash_bytes)])
        if tx is None:
            raise ResourceNotFound(f"transaction {fmt.hb(hash_bytes)} not found")
        result: dict[str, Any] = {"contract": None, "call": None, "logs": [], "revert": None, "trace": None,
                                  "traceCut": False}
        target = tx.get("to") or (receipt or {}).get("contractAddress")
        if target:
            known = self._source(bytes.fromhex(target[2:]))
            result["contract"] = known.name if known else None
            if tx.get("to") and known is not None:
                result["call"] = self._decoder(known).call(bytes.fromhex(tx["input"][2:]))
        if receipt is None:  # pending: nothing ran yet
            return result
        for log in receipt["logs"]:
            source = self._source(bytes.fromhex(log["address"][2:]))
            topics = [bytes.fromhex(t[2:]) for t in log["topics"]]
            event = self._decoder(source).event(topics, bytes.fromhex(log["data"][2:])) if source else None
            result["logs"].append({"logIndex": log["logIndex"], "address": log["address"],
                                   "contract": source.name if source else None, "event": event})
        try:
            with self.node.lock:
                tracer = CallTracer()
                traced = replay_transaction(self.node, hash_bytes, tracer)
                top = tracer.tree(traced.gas_limit, traced.gas_used)
        except Exception:  # a trace the node cannot replay (a fork's history, say): the rest is still shown
            return result
        budget = [MAX_TRACE_CALLS]
        result["trace"] = self._call_json(top, budget)
        result["traceCut"] = budget[0] < 0
        if receipt.get("status") == "0x0":
            source = self._source(top.to) if top.to else None
            decoded = revert_reason(top.output, self._decoder(source) if source else None)
            result["revert"] = {"data": fmt.hb(top.output), "reason": decoded,
                                "message": top.revert_reason or top.error}
        return result

    # -- helpers ------------------------------------------------------------------------------------------
    def _source(self, address: bytes) -> Any:
        with self.node.lock:
            code = self.node.backend.code(address, self.node.backend.resolve_block("latest"))
        return self.node.sources.lookup(code)

    def _decoder(self, source: Any) -> Decoder:
        decoder = self._decoders.get(id(source))
        if decoder is None:
            decoder = self._decoders[id(source)] = Decoder(source.abi)
        return decoder

    def _call_json(self, call: Call, budget: list[int]) -> dict[str, Any]:
        budget[0] -= 1
        source = self._source(call.to) if call.to else None
        decoder = self._decoder(source) if source else None
        node: dict[str, Any] = {
            "type": call.type, "from": fmt.addr(call.sender), "to": fmt.addr(call.to) if call.to else None,
            "value": fmt.hx(call.value) if call.value is not None else None, "gasUsed": fmt.hx(call.gas_used),
            "contract": source.name if source else None, "error": call.error,
            "call": decoder.call(call.input) if decoder and call.type != "CREATE" else None,
            "selector": fmt.hb(call.input[:4]) if len(call.input) >= 4 else None, "calls": []}
        for child in call.calls:
            if budget[0] <= 0:
                budget[0] = -1
                break
            node["calls"].append(self._call_json(child, budget))
        return node
