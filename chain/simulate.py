"""eth_simulateV1 (execution-apis): calls run in simulated blocks on top of a block, nothing kept.

Blocks follow one another from the base block: each block's state overrides apply before its calls, each
call sees the ones before it, block numbers and timestamps only go up (gaps are filled with empty blocks),
BLOCKHASH sees the simulated blocks, and every simulated block gets a real header: state, transaction and
receipt roots, so its hash and its logs' hashes are what mining those calls would have given. Without
`validation` the base fee is 0 unless overridden and nonces and fees are not checked, as geth does; with
it each call must be a transaction the chain would accept. `traceTransfers` adds an ERC-20-style Transfer
log from 0xeeee…eeee for every movement of ether (geth's convention).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import rlp
from eth.exceptions import Halt, Revert
from eth.vm.execution_context import ExecutionContext
from eth_utils import ValidationError

from .backend import Backend
from .blobs import next_excess_blob_gas
from .blocks import Header, Log, Receipt, logs_bloom, merged_bloom, next_base_fee
from .errors import ChainError
from .execution import Executor, apply_overrides, revert_reason
from .hashing import keccak
from .rpc.params import CallRequest
from .state import Overlay
from .transactions import DYNAMIC_FEE, LEGACY, build_unsigned, check_type_for_fork, is_delegation, spoofed_call
from .trie import ordered_trie_root

MAX_BLOCKS = 256  # as geth and reth
TIME_STEP = 12  # seconds between simulated blocks whose time is not given
TRANSFER_ADDRESS = bytes.fromhex("ee" * 20)
TRANSFER_TOPIC = int.from_bytes(keccak(b"Transfer(address,address,uint256)"), "big")


class SimulationError(ChainError):
    """A request eth_simulateV1 cannot run, with execution-apis' code for why (-380xx)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class BlockSpec:
    """One entry of blockStateCalls, parsed."""

    number: int | None = None
    timestamp: int | None = None
    gas_limit: int | None = None
    base_fee: int | None = None
    coinbase: bytes | None = None
    prev_randao: bytes | None = None
    blob_base_fee: int | None = None  # what BLOBBASEFEE reads (simulated calls carry no blobs)
    withdrawals: list[tuple[int, int, bytes, int]] | None = None  # (index, validator, address, gwei)
    state_overrides: dict[str, Any] | None = None
    moves: dict[bytes, bytes] = field(default_factory=dict)  # precompile -> its new address
    calls: list[CallRequest] = field(default_factory=list)


@dataclass
class SimulatedCall:
    output: bytes
    gas_used: int
    logs: list[Log]
    status: int
    error: tuple[int, str, bytes | None] | None  # (code, message, revert data)


@dataclass
class SimulatedBlock:
    header: Header
    hash: bytes
    transactions: list[tuple[bytes, bytes, bytes]]  # (raw with a zero signature, hash, sender)
    calls: list[SimulatedCall]


class _Ancestors:
    """What BLOCKHASH reads, newest first: the simulated blocks, then the chain's from the base block down."""

    def __init__(self, simulated: list[bytes], backend: Backend, base: int) -> None:
        self.simulated, self.backend, self.base = simulated, backend, base

    def __iter__(self) -> Iterator[bytes]:
        yield from reversed(self.simulated)
        backend = self.backend
        if self.base == backend.head.number:
            yield from backend.prev_hashes(self.base + 1)
            return
        for number in range(self.base, max(-1, self.base - 256), -1):
            found = backend.storage.block_by_number(number)
            if found is not None:
                yield found[1]
            elif backend.fork_blocks is not None:
                yield backend.fork_blocks.hash_of(number)
            else:
                return


class Simulation:
    def __init__(self, backend: Backend, base: int, validation: bool, trace_transfers: bool) -> None:
        self.backend, self.base = backend, base
        self.validation, self.trace_transfers = validation, trace_transfers
        self.executor = Executor(backend)

    def run(self, specs: list[BlockSpec]) -> list[SimulatedBlock]:
        backend = self.backend
        if self.base < backend.first_number and backend._remote is not None:
            raise SimulationError(-32000, f"cannot simulate on block {self.base}: it is before the fork")
        self._check_sequence(specs)
        with backend.rewound(self.base) as live:
            self.live = live
            overlay = Overlay(live)
            parent = backend.header(self.base)
            parent_hash = backend.storage.block_by_number(self.base)
            self.hashes: list[bytes] = []
            out: list[SimulatedBlock] = []
            last = parent
            last_hash = parent_hash[1] if parent_hash is not None else parent.hash
            for spec in specs:
                number = spec.number if spec.number is not None else last.number + 1
                while last.number + 1 < number:  # a gap: empty blocks, as geth fills it
                    block = self._block(overlay, BlockSpec(), last, last_hash)
                    out.append(block)
                    last, last_hash = block.header, block.hash
                block = self._block(overlay, spec, last, last_hash)
                out.append(block)
                last, last_hash = block.header, block.hash
            return out

    def _check_sequence(self, specs: list[BlockSpec]) -> None:
        """Numbers and timestamps only go up, and the blocks with their gaps fit MAX_BLOCKS."""
        header = self.backend.header(self.base)
        number, timestamp = header.number, header.timestamp
        for spec in specs:
            target = spec.number if spec.number is not None else number + 1
            if target <= number:
                raise SimulationError(-38020, f"block numbers must be in order: {target} <= {number}")
            if target - self.base > MAX_BLOCKS:
                raise SimulationError(-38026, f"too many blocks: at most {MAX_BLOCKS} may be simulated, "
                                              f"gaps included (block {target} is {target - self.base} past the base)")
            timestamp += TIME_STEP * (target - number - 1)  # the gap's blocks
            if spec.timestamp is not None:
                if spec.timestamp <= timestamp:
                    raise SimulationError(-38021, f"block timestamps must be in order: {spec.timestamp} <= "
                                                  f"{timestamp}")
                timestamp = spec.timestamp
            else:
                timestamp += TIME_STEP
            number = target

    # -- one block ---------------------------------------------------------------------
    def _block(self, overlay: Overlay, spec: BlockSpec, parent: Header, parent_hash: bytes) -> SimulatedBlock:
        backend = self.backend
        number = parent.number + 1
        if spec.base_fee is not None:
            base_fee = spec.base_fee
        elif not self.validation:
            base_fee = 0  # geth: no base fee without validation, so calls without fees run
        elif number == backend.head.number + 1:
            base_fee = backend.pending_base_fee()
        else:
            base_fee = next_base_fee(parent)
        gas_limit = spec.gas_limit if spec.gas_limit is not None else backend.gas_limit
        header = Header(
            parent_hash=parent_hash, coinbase=spec.coinbase if spec.coinbase is not None else backend.coinbase,
            state_root=b"", transactions_root=b"", receipts_root=b"", bloom=b"", number=number,
            gas_limit=gas_limit, gas_used=0,
            timestamp=spec.timestamp if spec.timestamp is not None else parent.timestamp + TIME_STEP,
            base_fee=base_fee, mix_hash=spec.prev_randao or keccak(number.to_bytes(32, "big")),
            fork_level=backend.fork_level, excess_blob_gas=next_excess_blob_gas(
                parent.excess_blob_gas, parent.blob_gas_used, parent.base_fee, backend.config.hardfork),
        )
        if spec.state_overrides:
            apply_overrides(overlay, spec.state_overrides)
        state = self._state(overlay, header, spec.moves, spec.blob_base_fee)
        calls: list[SimulatedCall] = []
        txs: list[tuple[bytes, bytes, bytes]] = []
        receipts: list[bytes] = []
        blooms: list[bytes] = []
        gas_used = 0
        for index, req in enumerate(spec.calls):
            call, tx, used = self._call(state, overlay, header, req, gas_used, index)
            gas_used += used
            calls.append(call)
            txs.append(tx)
            receipt = Receipt(self._type_of(req), call.status, gas_used, tuple(call.logs), logs_bloom(call.logs))
            receipts.append(receipt.encode())
            blooms.append(receipt.bloom)
        withdrawals_root = header.withdrawals_root
        if spec.withdrawals is not None:
            for _, _, address, gwei in spec.withdrawals:
                overlay.set_balance(address, overlay.get_balance(address) + gwei * 10**9)
            withdrawals_root = ordered_trie_root([
                rlp.encode([index, validator, address, gwei]) for index, validator, address, gwei in spec.withdrawals])
        header = header.with_(
            state_root=self._state_root(overlay), transactions_root=ordered_trie_root([raw for raw, _, _ in txs]),
            receipts_root=ordered_trie_root(receipts), bloom=merged_bloom(blooms), gas_used=gas_used,
            withdrawals_root=withdrawals_root)
        block_hash = header.hash
        self.hashes.append(block_hash)
        return SimulatedBlock(header, block_hash, txs, calls)

    def _state(self, overlay: Overlay, header: Header, moves: dict[bytes, bytes], blob_fee: int | None) -> Any:
        backend = self.backend
        computation = _simulation_computation(backend.state_class.computation_class, moves, self.trace_transfers)
        attrs: dict[str, Any] = {"computation_class": computation}
        if blob_fee is not None:
            attrs["blob_base_fee"] = property(lambda _: blob_fee)
        state_class = type("SimulationState", (backend.state_class,), attrs)
        context = ExecutionContext(
            coinbase=header.coinbase, timestamp=header.timestamp, block_number=header.number, difficulty=0,
            mix_hash=header.mix_hash, gas_limit=header.gas_limit,
            prev_hashes=_Ancestors(self.hashes, backend, self.base), chain_id=backend.chain_id,
            base_fee_per_gas=header.base_fee, excess_blob_gas=header.excess_blob_gas)
        return state_class(overlay, context, header.base_fee)

    def _state_root(self, overlay: Overlay) -> bytes:
        """The root of the base state with everything simulated so far folded in (and taken out again)."""
        undo = self.live.apply(overlay.diff())
        try:
            return self.live.state_root()
        finally:
            self.live.apply(undo)

    @staticmethod
    def _type_of(req: CallRequest) -> int:
        return Executor._type_of(req)

    # -- one call ----------------------------------------------------------------------
    def _call(self, state: Any, overlay: Overlay, header: Header, req: CallRequest, block_gas: int,
              index: int) -> tuple[SimulatedCall, tuple[bytes, bytes, bytes], int]:
        backend = self.backend
        sender = req.sender or b"\x00" * 20
        type_id = self._type_of(req)
        check_type_for_fork(type_id, backend.config.hardfork)
        remaining = header.gas_limit - block_gas
        cap = backend.tx_gas_cap
        gas = req.gas if req.gas is not None else (min(remaining, cap) if cap is not None else remaining)
        if gas > remaining:
            raise SimulationError(-38015, f"block gas limit reached: call {index} asks for {gas} gas, the block "
                                          f"has {remaining} left of {header.gas_limit}")
        state_nonce = overlay.get_nonce(sender)
        nonce = req.nonce if req.nonce is not None else state_nonce
        gas_price = req.gas_price or 0
        max_fee = req.max_fee if req.max_fee is not None else (req.tip or 0)
        fields = dict(type_id=type_id, chain_id=backend.chain_id, gas=gas, to=req.to or b"", value=req.value,
                      data=req.data, gas_price=gas_price, max_fee=max_fee, tip=req.tip or 0,
                      access_list=req.access_list, authorizations=req.authorizations)
        shown = build_unsigned(nonce=nonce, **fields)
        run = shown if nonce == state_nonce else build_unsigned(nonce=state_nonce, **fields)
        if self.validation:
            self._validate(overlay, header, req, sender, nonce, state_nonce, shown, index)
        elif overlay.get_balance(sender) < req.value:
            raise SimulationError(-38014, f"insufficient funds for value: call {index}: {sender_hex(sender)} has "
                                          f"{overlay.get_balance(sender)} wei, sends {req.value}")
        raw = _zero_signed(shown, type_id)
        tx_hash = keccak(raw)
        state.lock_changes()
        try:
            computation = state.apply_transaction(spoofed_call(run, sender))
        except ValidationError as exc:
            raise _invalid(str(exc), index) from None
        used = backend.vm.finalize_gas_used(run, computation)
        if computation.is_error:
            error = computation.error
            if isinstance(error, Revert):
                data = bytes(computation.output)
                reason = revert_reason(data)
                message = "execution reverted" + (f": {reason}" if reason else "")
                outcome = (3, message, data)
            else:
                outcome = (-32015, _vm_error(error), None)
            call = SimulatedCall(bytes(computation.output), used, [], 0, outcome)
        else:
            logs = [Log(address, tuple(t.to_bytes(32, "big") for t in topics), data)
                    for address, topics, data in computation.get_log_entries()]
            call = SimulatedCall(bytes(computation.output), used, logs, 1, None)
        return call, (raw, tx_hash, sender), used

    def _validate(self, overlay: Overlay, header: Header, req: CallRequest, sender: bytes, nonce: int,
                  state_nonce: int, unsigned: Any, index: int) -> None:
        """Every check a transaction must pass to be mined, with execution-apis' code for each."""
        where = f"call {index} from {sender_hex(sender)}"
        if nonce < state_nonce:
            raise SimulationError(-38011, f"nonce too low: {where} has nonce {nonce}, the account's is {state_nonce}")
        if nonce > state_nonce:
            raise SimulationError(-38010, f"nonce too high: {where} has nonce {nonce}, the account's is "
                                          f"{state_nonce}")
        code = overlay.get_code(sender)
        if code and not is_delegation(code):
            raise SimulationError(-38024, f"sender is not an EOA: {where} has code")
        type_id = self._type_of(req)
        max_fee = unsigned.gas_price if type_id < DYNAMIC_FEE else unsigned.max_fee_per_gas
        if max_fee < header.base_fee:
            raise SimulationError(-38012, f"max fee per gas less than block base fee: {where} offers {max_fee}, "
                                          f"the base fee is {header.base_fee}")
        limit = self.backend.config.code_size_limit
        if req.to is None and limit is not None and len(req.data) > 2 * limit:
            raise SimulationError(-38025, f"max initcode size exceeded: {where} has {len(req.data)} bytes, the "
                                          f"limit is {2 * limit}")
        try:
            intrinsic = unsigned.intrinsic_gas
        except ValidationError as exc:
            raise _invalid(str(exc), index) from None
        if unsigned.gas < intrinsic:
            raise SimulationError(-38013, f"intrinsic gas too low: {where} gives {unsigned.gas}, needs {intrinsic}")
        cost = unsigned.gas * max_fee + req.value
        balance = overlay.get_balance(sender)
        if balance < cost:
            raise SimulationError(-38014, f"insufficient funds for gas * price + value: {where} has {balance} "
                                          f"wei, needs {cost}")


def sender_hex(address: bytes) -> str:
    return "0x" + address.hex()


def _zero_signed(unsigned: Any, type_id: int) -> bytes:
    """The transaction's encoding with a zero signature: what its simulated hash is taken of (as geth)."""
    items = rlp.decode(rlp.encode(unsigned)) + [b"", b"", b""]
    return rlp.encode(items) if type_id == LEGACY else bytes((type_id,)) + rlp.encode(items)


def _vm_error(error: Exception | None) -> str:
    text = str(error) if error is not None else ""
    name = type(error).__name__ if error is not None else "error"
    if "OutOfGas" in name or "out of gas" in text.lower():
        return "out of gas"
    if "InvalidInstruction" in name or "InvalidOpcode" in name:
        return "invalid opcode"
    if "StackDepthLimit" in name:
        return "max call depth exceeded"
    if "InsufficientStack" in name:
        return "stack underflow"
    if "FullStack" in name:
        return "stack limit reached 1024"
    if "WriteProtection" in name:
        return "write protection"
    if "InvalidJump" in name:
        return "invalid jump destination"
    if "InsufficientFunds" in name:
        return "insufficient balance for transfer"
    return text or name


def _invalid(text: str, index: int) -> SimulationError:
    """py-evm's refusal of a transaction, with the code execution-apis gives that refusal."""
    lower = text.lower()
    code = -38014 if "balance" in lower or "funds" in lower else -38013 if "intrinsic" in lower or "gas" in lower \
        else -38011 if "nonce" in lower else -32602
    return SimulationError(code, f"call {index}: {text}")


def _simulation_computation(base: Any, moves: dict[bytes, bytes], trace_transfers: bool) -> Any:
    """The computation class for a block: precompiles moved as the state overrides ask, and with
    `trace_transfers` a Transfer log in the frame that moves ether (so a frame that reverts takes it along)."""
    if not moves and not trace_transfers:
        return base
    attrs: dict[str, Any] = {}
    if moves:
        precompiles = dict(base._precompiles)
        for source, target in moves.items():
            precompiles[target] = precompiles.pop(source)
        attrs["_precompiles"] = precompiles
    if trace_transfers:
        original_selfdestruct = base.opcodes[0xFF]

        def selfdestruct(computation: Any) -> None:
            values = computation._stack.values
            beneficiary = (values[-1] if type(values[-1]) is int else int.from_bytes(values[-1], "big")) \
                if values else None
            source = computation.msg.storage_address
            balance = computation.state.get_balance(source)
            try:
                original_selfdestruct(computation=computation)
            except Halt:
                if balance and beneficiary is not None:
                    target = (beneficiary % 2**160).to_bytes(20, "big")
                    computation.add_log_entry(TRANSFER_ADDRESS, [TRANSFER_TOPIC, int.from_bytes(source, "big"),
                                                                 int.from_bytes(target, "big")],
                                              balance.to_bytes(32, "big"))
                raise

        attrs["opcodes"] = {**base.opcodes, 0xFF: selfdestruct}

        def __init__(self: Any, state: Any, message: Any, transaction_context: Any) -> None:
            base.__init__(self, state, message, transaction_context)
            if message.should_transfer_value and message.value:
                self.add_log_entry(TRANSFER_ADDRESS, [TRANSFER_TOPIC, int.from_bytes(message.sender, "big"),
                                                      int.from_bytes(message.storage_address, "big")],
                                   message.value.to_bytes(32, "big"))

        attrs["__init__"] = __init__
    return type(f"Simulation{base.__name__}", (base,), attrs)

