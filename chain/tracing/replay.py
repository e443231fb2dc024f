"""Where a trace runs: a mined transaction is re-executed on the state before its block, after the transactions
that came before it in that block, in that block's context; a call runs like eth_call. Nothing is kept."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from eth.vm.execution_context import ExecutionContext

from ..blocks import Header
from ..errors import ExecutionError, ResourceNotFound
from ..execution import PENDING, Executor, apply_overrides
from ..hashing import keccak
from ..rpc.params import CallRequest
from ..state import Overlay
from ..transactions import PendingTx, build_unsigned, decode_raw, restore_impersonated, spoofed_call
from .hooks import Tracer, traced_computation_class


@dataclass
class Traced:
    """One traced transaction (or call): what a tracer needs besides its own record."""

    tx_hash: bytes | None
    sender: bytes
    to: bytes | None
    gas_limit: int
    gas_used: int  # after refunds, as the receipt says
    value: int
    data: bytes
    computation: Any
    block: int
    index: int | None
    overlay: Overlay  # the state after the transaction (a tracer that diffs reads it)


def traced_state_class(backend: Any, tracer: Tracer) -> Any:
    base = backend.state_class

    class TracedState(base):  # type: ignore[misc, valid-type]
        computation_class = traced_computation_class(base.computation_class, tracer)

    return TracedState


def block_context(backend: Any, header: Header, storage: Any) -> ExecutionContext:
    """The execution context block `header` was mined in (its coinbase, time, base fee and the hashes before it)."""
    hashes = []
    for number in range(header.number - 1, max(-1, header.number - 257), -1):
        found = storage.block_by_number(number)
        if found is None:
            break
        hashes.append(found[1])
    return ExecutionContext(coinbase=header.coinbase, timestamp=header.timestamp, block_number=header.number,
                            difficulty=0, mix_hash=header.mix_hash, gas_limit=header.gas_limit,
                            prev_hashes=tuple(hashes), chain_id=backend.chain_id, base_fee_per_gas=header.base_fee,
                            excess_blob_gas=header.excess_blob_gas)


def stored_transaction(backend: Any, tx_hash: bytes, raw: bytes, sender: bytes) -> PendingTx:
    if keccak(raw) == tx_hash:
        return decode_raw(raw, backend.chain_id)
    return restore_impersonated(raw, sender)


def block_transactions(node: Any, number: int) -> tuple[Header, bytes, list[PendingTx]]:
    found = node.storage.block_by_number(number)
    if found is None:
        raise ResourceNotFound(f"block {number} not found")
    header, block_hash, hashes, _ = found
    txs = []
    for tx_hash in hashes:
        stored = node.storage.tx(tx_hash)
        txs.append(stored_transaction(node.backend, tx_hash, stored.raw, stored.sender))
    return header, block_hash, txs


def replay_block(node: Any, number: int, tracer_for: Callable[[int, PendingTx], Tracer | None]) -> list[Traced]:
    """Re-execute block `number`; `tracer_for(index, tx)` gives the tracer for a transaction (None: run it
    untraced). Returns the traced ones."""
    backend = node.backend
    if number == 0:
        return []
    header, _, txs = block_transactions(node, number)
    overlay = Overlay(backend.reader(number - 1))
    context = block_context(backend, header, node.storage)
    switch = _Switch()
    state = traced_state_class(backend, switch)(overlay, context)
    out = []
    for index, pending in enumerate(txs):
        tracer = tracer_for(index, pending)
        switch.use(tracer)
        if tracer is not None:
            tracer.before_transaction(overlay)
        state.lock_changes()
        computation = state.apply_transaction(pending.tx)
        if tracer is not None:
            tx = pending.tx
            out.append(Traced(pending.hash, pending.sender, tx.to or None, tx.gas,
                              backend.vm.finalize_gas_used(tx, computation), tx.value, tx.data, computation, number,
                              index, overlay))
    switch.use(None)
    return out


def replay_transaction(node: Any, tx_hash: bytes, tracer: Tracer) -> Traced:
    stored = node.storage.tx(tx_hash)
    if stored is None:
        raise ResourceNotFound(f"transaction 0x{tx_hash.hex()} not found")
    traced = replay_block(node, stored.block, lambda index, tx: tracer if index == stored.index else None)
    return traced[0]


def trace_call(node: Any, req: CallRequest, number: int, tracer: Tracer, state_overrides: Any = None,
               block_overrides: dict[str, int] | None = None) -> Traced:
    """Run `req` as eth_call would (at `number`, PENDING for the next block), traced."""
    backend = node.backend
    executor: Executor = node.executor
    header = executor.header(number)
    overlay = Overlay(backend.reader(backend.head.number if number == PENDING else number))
    if state_overrides:
        apply_overrides(overlay, state_overrides)
    if block_overrides:
        header = header.with_(**block_overrides)
    sender = req.sender or b"\x00" * 20
    gas = req.gas if req.gas is not None else header.gas_limit
    unsigned = build_unsigned(
        type_id=executor._type_of(req), chain_id=backend.chain_id, nonce=overlay.get_nonce(sender), gas=gas,
        to=req.to or b"", value=req.value, data=req.data, gas_price=req.gas_price or 0,
        max_fee=req.max_fee if req.max_fee is not None else (req.tip or 0), tip=req.tip or 0,
        access_list=req.access_list, authorizations=req.authorizations)
    tx = spoofed_call(unsigned, sender)
    fee = header.base_fee if req.fee_given else 0
    context = ExecutionContext(
        coinbase=header.coinbase, timestamp=header.timestamp, block_number=header.number, difficulty=0,
        mix_hash=header.mix_hash, gas_limit=header.gas_limit, prev_hashes=backend.prev_hashes(header.number),
        chain_id=backend.chain_id, base_fee_per_gas=fee, excess_blob_gas=header.excess_blob_gas)
    state = traced_state_class(backend, tracer)(overlay, context)
    tracer.before_transaction(overlay)
    state.lock_changes()
    from eth_utils import ValidationError
    try:
        computation = state.apply_transaction(tx)
    except ValidationError as exc:
        raise ExecutionError(str(exc)) from None
    return Traced(None, sender, req.to, gas, backend.vm.finalize_gas_used(tx, computation), req.value, req.data,
                  computation, header.number, None, overlay)


class _Switch(Tracer):
    """Forwards to the tracer of the transaction being replayed, or to nothing."""

    def __init__(self) -> None:
        self._tracer: Tracer | None = None

    def use(self, tracer: Tracer | None) -> None:
        """Route the hooks straight to `tracer`'s methods (no forwarding call per opcode)."""
        self._tracer = tracer
        self.active = tracer is not None and tracer.active
        self.wants_steps = tracer is not None and tracer.wants_steps
        self.deadline = tracer.deadline if tracer is not None else 0.0
        target = tracer if tracer is not None else Tracer()
        self.enter, self.step, self.step_end, self.exit = (  # type: ignore[method-assign]
            target.enter, target.step, target.step_end, target.exit)
