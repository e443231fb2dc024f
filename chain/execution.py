"""eth_call, eth_estimateGas and eth_createAccessList on a throw-away overlay."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth.exceptions import Revert
from eth_abi import decode as abi_decode
from eth_utils import ValidationError

from .backend import Backend
from .compiled import call_interpreter
from .console import CONSOLE_ADDRESS
from .errors import ChainError, ExecutionError, ExecutionReverted, InvalidParams
from .evm import CheckedMessage
from .fast_precompiles import recovered
from .rpc.params import CallRequest
from .state import Overlay
from .transactions import (ACCESS_LIST, DYNAMIC_FEE, LEGACY, SET_CODE, build_unsigned, check_type_for_fork,
                           is_delegation, spoofed_call)

PANIC_REASONS = {
    0x00: "generic panic", 0x01: "assert(false)", 0x11: "arithmetic underflow or overflow",
    0x12: "division or modulo by zero", 0x21: "enum overflow", 0x22: "invalid encoded storage byte array",
    0x31: "out-of-bounds array access; popping on an empty array", 0x32: "out-of-bounds access of an array",
    0x41: "out of memory", 0x51: "uninitialized function",
}
ERROR_SELECTOR = bytes.fromhex("08c379a0")
PANIC_SELECTOR = bytes.fromhex("4e487b71")
PRECOMPILES = {i.to_bytes(20, "big") for i in (*range(1, 0x12), 0x100)}  # 0x100: Osaka's P256VERIFY
PENDING = -1  # a block number meaning "the block that would be mined next" (on the latest state)
LAST_PRECOMPILE = max(int.from_bytes(a, "big") for a in PRECOMPILES)  # calls to addresses up to it are py-evm's
CONSOLE = int.from_bytes(CONSOLE_ADDRESS, "big")
interpret = call_interpreter()


def revert_reason(data: bytes) -> str | None:
    """Error(string), Panic(uint256) or a custom error's selector, as anvil phrases them."""
    if not data:
        return None
    try:
        if data[:4] == ERROR_SELECTOR:
            return str(abi_decode(["string"], data[4:])[0])
        if data[:4] == PANIC_SELECTOR:
            code = int(abi_decode(["uint256"], data[4:])[0])
            return f"panic: {PANIC_REASONS.get(code, 'unknown panic')} (0x{code:02x})"
    except Exception:
        pass
    return f"custom error 0x{data[:4].hex()}" + (f": {data[4:].hex()}" if len(data) > 4 else "")


@dataclass
class CallResult:
    output: bytes
    gas_used: int
    error: Exception | None
    access_list: list[tuple[bytes, list[int]]]
    consumed: int = 0  # gas burnt before refunds: what the gas limit must at least cover


class ConsoleSink:
    """Within the block, the computations' console.log calls go into `sink` (a plain context manager: a call pays
    for one per request)."""
    __slots__ = ("computations", "sink")

    def __init__(self, computations: Any, sink: list[bytes] | None) -> None:
        self.computations, self.sink = computations, sink

    def __enter__(self) -> None:
        self.computations.console_sink = self.sink

    def __exit__(self, *exc: object) -> None:
        self.computations.console_sink = None


class Executor:
    def __init__(self, backend: Backend, interpret_calls: bool = True) -> None:
        self.backend = backend
        self.interpret_calls = interpret_calls  # plain view code through call_interpreter.py first (see _interpreted)

    def header(self, number: int) -> Any:
        """Block `number`'s header, or for PENDING the next block's: calls at `pending` (and estimates without a
        block) run in the context of the block that would be mined next, as anvil runs them."""
        return self.backend.pending_header() if number == PENDING else self.backend.header(number)

    def default_gas(self, header: Any) -> int:
        """Gas for a call that names none: the block's gas limit, at most EIP-7825's cap where it is enforced."""
        cap = self.backend.tx_gas_cap
        return min(header.gas_limit, cap) if cap is not None else header.gas_limit

    def _state_number(self, number: int) -> int:
        return self.backend.head.number if number == PENDING else number

    def _prepare(self, req: CallRequest, number: int, overrides: dict[str, Any] | None) -> tuple[Any, Overlay, bytes]:
        """The block's header, a throw-away overlay on its state (overrides applied) and the sender."""
        overlay = Overlay(self.backend.reader(self._state_number(number)))
        if overrides:
            apply_overrides(overlay, overrides)
        return self.header(number), overlay, req.sender or b"\x00" * 20

    def run(self, req: CallRequest, number: int, overrides: dict[str, Any] | None = None,
            gas: int | None = None) -> CallResult:
        """Execute `req` on the state after block `number` as if it were mined next; nothing is kept."""
        backend = self.backend
        header, overlay, sender = self._prepare(req, number, overrides)
        base_fee = header.base_fee if req.fee_given else 0
        gas_limit = gas if gas is not None else (req.gas if req.gas is not None else self.default_gas(header))
        type_id = self._type_of(req)
        check_type_for_fork(type_id, backend.config.hardfork)
        limit = backend.config.code_size_limit
        if req.to is None and limit is not None and len(req.data) > 2 * limit:
            raise ExecutionError(f"max initcode size exceeded: {len(req.data)} bytes, the limit is {2 * limit} "
                                 "(EIP-3860)")
        unsigned = build_unsigned(
            type_id=type_id, chain_id=backend.chain_id, nonce=overlay.get_nonce(sender), gas=gas_limit,
            to=req.to or b"", value=req.value, data=req.data, gas_price=req.gas_price or 0,
            max_fee=req.max_fee if req.max_fee is not None else (req.tip or 0), tip=req.tip or 0,
            access_list=req.access_list, authorizations=req.authorizations,
        )
        tx = spoofed_call(unsigned, sender)
        state = backend.state_for(overlay, header, base_fee=base_fee)
        state.lock_changes()
        try:
            computation = state.apply_transaction(tx)
        except ValidationError as exc:
            raise ExecutionError(_phrase_validation(str(exc))) from None
        used = backend.vm.finalize_gas_used(tx, computation)
        error = computation.error if computation.is_error else None
        consumed = gas_limit - computation.get_gas_remaining()
        return CallResult(computation.output, used, error, self._access_list(overlay, sender, req), consumed)

    @staticmethod
    def _type_of(req: CallRequest) -> int:
        if req.type_id is not None:
            if req.type_id not in (LEGACY, ACCESS_LIST, DYNAMIC_FEE, SET_CODE):
                raise InvalidParams(f"invalid transaction.type: unsupported type {req.type_id}")
            return req.type_id
        if req.authorizations:
            return SET_CODE
        if req.max_fee is not None or req.tip is not None:
            return DYNAMIC_FEE
        if req.has_access_list:
            return ACCESS_LIST if req.gas_price is not None else DYNAMIC_FEE
        return LEGACY

    def _access_list(self, overlay: Overlay, sender: bytes, req: CallRequest) -> list[tuple[bytes, list[int]]]:
        slots: dict[bytes, list[int]] = {}
        for key in overlay._warm:  # what the transaction touched (EIP-2929 access sets)
            if isinstance(key, tuple):
                slots.setdefault(key[0], []).append(key[1])
            elif key not in PRECOMPILES and key not in (sender, req.to, self.backend.coinbase):
                slots.setdefault(key, [])
        return [(a, sorted(s)) for a, s in sorted(slots.items())]

    def console(self, sink: list[bytes] | None) -> ConsoleSink:
        """Collect the console.log calls made inside the block into `sink`."""
        return ConsoleSink(self.backend.state_class.computation_class, sink)

    def call(self, req: CallRequest, number: int, overrides: dict[str, Any] | None = None,
             console: list[bytes] | None = None) -> bytes:
        with self.console(console):
            result = self._message_call(req, number, overrides)
            if result is None:
                result = self.run(req, number, overrides)
        raise_if_failed(result)
        return result.output

    def _message_call(self, req: CallRequest, number: int, overrides: dict[str, Any] | None) -> CallResult | None:
        """A plain contract call as a message, as geth's eth_call applies it, without building a transaction.

        The transaction executor's work for a call is validation and gas bookkeeping that eth_call does not
        report; this path does what is observable (gas purchase from the sender's balance, warm addresses,
        EIP-7702 delegation) and falls back to the full path for anything else (access lists, authorizations,
        creation, a sender who cannot pay), so errors keep one source.
        """
        if req.to is None or req.has_access_list or req.authorizations:
            return None
        backend = self.backend
        header, overlay, sender = self._prepare(req, number, overrides)
        gas = req.gas if req.gas is not None else self.default_gas(header)
        zeros = req.data.count(0)
        intrinsic = 21_000 + 4 * zeros + 16 * (len(req.data) - zeros)
        price = req.gas_price if req.gas_price is not None else (req.max_fee or 0)
        if req.max_fee is not None:
            price = min(req.max_fee, header.base_fee + (req.tip or 0))
        if gas < intrinsic or overlay.get_balance(sender) < req.value + gas * price:
            return None
        output = self._interpreted(req, header, overlay, sender, gas - intrinsic, gas * price) \
            if self.interpret_calls else None
        if output is not None:
            return CallResult(output, 0, None, [])
        state = backend.state_for(overlay, header)  # BASEFEE reads the block's base fee, as anvil's calls do
        state.lock_changes()
        if price:
            overlay.set_balance(sender, overlay.get_balance(sender) - gas * price)
        overlay.increment_nonce(sender)
        for address in (sender, req.to, backend.coinbase):
            overlay.mark_address_warm(address)
        code = overlay.get_code(req.to)
        delegated = is_delegation(code)
        if delegated:
            delegate = code[3:]
            overlay.mark_address_warm(delegate)
            code = overlay.get_code(delegate)
        message = CheckedMessage(gas=gas - intrinsic, to=req.to, sender=sender, value=req.value, data=req.data,
                                 code=code, is_delegation=delegated)
        context = state.get_transaction_context_class()(gas_price=price, origin=sender)
        computation = state.computation_class.apply_message_to_discard(state, message, context)
        error = computation.error if computation.is_error else None
        return CallResult(computation.output, 0, error, [])

    def _interpreted(self, req: CallRequest, header: Any, overlay: Overlay, sender: bytes, gas: int,
                     purchase: int) -> bytes | None:
        """The output of the call's code run by call_interpreter.py, or None where it leaves the call to py-evm (and
        has changed nothing). What the message path does first - the sender's nonce, the warm addresses - can only
        matter to opcodes it leaves to py-evm; the gas `purchase` and the value it moves are in the balances the
        interpreter reads. The block's fields are read from the py-evm state the message path would run on, built
        only for a call that reads one."""
        to = req.to
        assert to is not None
        code = overlay.get_code(to)
        if not code or is_delegation(code):
            return None
        backend = self.backend
        addresses: dict[int, bytes] = {}
        states: list[Any] = []

        def address_of(number: int) -> bytes:
            address = addresses.get(number)
            if address is None:
                address = addresses[number] = number.to_bytes(20, "big")
            return address

        def storage(address: int, slot: int) -> int:
            return overlay.get_storage(address_of(address), slot)

        def code_of(address: int) -> bytes | None:
            if address <= LAST_PRECOMPILE or address == CONSOLE:  # console.log calls go to the node's output
                return None
            code = overlay.get_code(address_of(address))
            return None if is_delegation(code) else code

        sender_number, to_number = int.from_bytes(sender, "big"), int.from_bytes(to, "big")

        def balance(address: int) -> int:
            held = overlay.get_balance(address_of(address))
            if address == sender_number:
                held -= purchase + req.value
            return held + req.value if address == to_number else held

        def block_field(opcode: int) -> int:
            if not states:
                states.append(backend.state_for(overlay, header))
            state = states[0]
            if opcode == 0x41:
                return int.from_bytes(state.coinbase, "big")
            if opcode == 0x42:
                return int(state.timestamp)
            if opcode == 0x43:
                return int(state.block_number)
            return int(state.gas_limit if opcode == 0x45 else state.base_fee)

        calls = interpret.Calls(interpret.static_costs(backend.state_class.computation_class.opcodes), sender_number,
                                backend.chain_id, storage, block_field, code_of, balance, recovered)
        return interpret.run(calls, code, req.data, gas, to_number, req.value)

    def estimate(self, req: CallRequest, number: int, overrides: dict[str, Any] | None = None,
                 console: list[bytes] | None = None) -> int:
        """The least gas with which the call succeeds (binary search, as geth does)."""
        cap = req.gas if req.gas is not None else self.header(number).gas_limit
        if self.backend.tx_gas_cap is not None:  # an estimate must be a gas limit one can send
            cap = min(cap, self.backend.tx_gas_cap)
        price = req.max_fee if req.max_fee is not None else (req.gas_price or 0)
        if price:  # as geth: never search above what the sender can pay for
            balance = self.backend.balance(req.sender or b"\x00" * 20, self._state_number(number))
            affordable = (balance - req.value) // price if balance > req.value else 0
            if affordable < cap:
                cap = max(affordable, 21_000)
        with self.console(console):  # what the call logs, once (not for every run of the search)
            first = self.run(req, number, overrides, gas=cap)
        raise_if_failed(first)
        lo, hi = max(first.gas_used - 1, 20_999), cap
        # As anvil: what the first run burnt before refunds is almost always the answer, and one more run at it
        # confirms that it suffices (a 100-fill settlement batch: two runs, where a blind binary search over the
        # 63/64 margin costs ~16). Only when it does not (a call that needs 64/63 of what it burns) is the rest
        # searched. Less gas can only succeed where a contract takes another path on less gas (gasleft()).
        exact = min(cap, max(first.consumed, first.gas_used))
        if exact >= hi:
            return hi
        if self._succeeds(req, number, overrides, exact):
            return exact
        lo = max(lo, exact)
        guess = min(hi, max(first.gas_used, exact) * 64 // 63 + 5_000)
        if guess < hi and self._succeeds(req, number, overrides, guess):
            hi = guess
        while lo + 1 < hi:
            mid = (lo + hi) // 2
            if self._succeeds(req, number, overrides, mid):
                hi = mid
            else:
                lo = mid
        return hi

    def _succeeds(self, req: CallRequest, number: int, overrides: dict[str, Any] | None, gas: int) -> bool:
        try:
            return self.run(req, number, overrides, gas=gas).error is None
        except ChainError:
            return False

    def access_list(self, req: CallRequest, number: int) -> tuple[list[tuple[bytes, list[int]]], int, str | None]:
        listed: list[tuple[bytes, list[int]]] = list(req.access_list)
        for _ in range(8):  # adding entries changes gas paths; settle as geth does
            req.access_list, req.has_access_list = listed, True
            result = self.run(req, number)
            if result.access_list == listed:
                break
            listed = result.access_list
        error = None
        if result.error is not None:
            error = str(_as_chain_error(result))
        return result.access_list, result.gas_used, error


def _as_chain_error(result: CallResult) -> ChainError:
    error = result.error
    if isinstance(error, Revert):
        return ExecutionReverted(revert_reason(result.output), result.output)
    return ExecutionError(_phrase_vm_error(error))


def raise_if_failed(result: CallResult) -> None:
    if result.error is not None:
        raise _as_chain_error(result)


def _phrase_vm_error(error: Exception | None) -> str:
    name = type(error).__name__
    text = str(error)
    if name == "OutOfGas":
        return "out of gas"
    if name == "InvalidInstruction":
        return f"invalid opcode: {text}" if text else "invalid opcode"
    return f"{name}: {text}" if text else name


def _phrase_validation(text: str) -> str:
    lowered = text.lower()
    if "balance" in lowered or "afford" in lowered or "insufficient" in lowered:
        return f"insufficient funds for gas * price + value: {text}"
    return text


def apply_overrides(overlay: Overlay, overrides: dict[str, Any]) -> None:
    """geth's state override set: balance, nonce, code, state (replace) or stateDiff (patch)."""
    from .rpc import params as p

    if not isinstance(overrides, dict):
        raise InvalidParams("invalid state overrides: expected an object keyed by address")
    for key, change in overrides.items():
        address = p.address(key, "state override address")
        if not isinstance(change, dict):
            raise InvalidParams(f"invalid state override for {key}: expected an object")
        if "state" in change and "stateDiff" in change:
            raise InvalidParams(f"invalid state override for {key}: state and stateDiff are exclusive")
        if change.get("balance") is not None:
            overlay.set_balance(address, p.quantity(change["balance"], f"{key}.balance"))
        if change.get("nonce") is not None:
            overlay.set_nonce(address, p.quantity(change["nonce"], f"{key}.nonce"))
        if change.get("code") is not None:
            overlay.set_code(address, p.data(change["code"], f"{key}.code"))
        if change.get("state") is not None:
            overlay.delete_storage(address)
            overlay.touch_account(address)
            for slot, value in change["state"].items():
                overlay.set_storage(address, p.quantity_or_hash(slot, f"{key}.state"),
                                    p.quantity_or_hash(value, f"{key}.state"))
        if change.get("stateDiff") is not None:
            for slot, value in change["stateDiff"].items():
                overlay.set_storage(address, p.quantity_or_hash(slot, f"{key}.stateDiff"),
                                    p.quantity_or_hash(value, f"{key}.stateDiff"))
