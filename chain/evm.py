"""A leaner computation for py-evm: its stack, memory growth and code checks, and its opcode loop.

py-evm's loop pays per opcode for a generator step, a keyword call and a
two-level gas method with validation. Ours (opcode_loop.py, compiled when
installed) reads the code bytes directly and runs the commonest opcodes
itself; opcode semantics, dynamic gas and error handling are py-evm's own
(the same `with computation` block catches VM errors).
"""

from __future__ import annotations

from typing import Any

from eth.exceptions import FullStack, InsufficientStack, OutOfGas, ReservedBytesInCode
from eth.vm.code_stream import CodeStream
from eth.vm.computation import memory_gas_cost
from eth.vm.memory import Memory
from eth.vm.message import Message
from eth.vm.stack import Stack

from .compiled import opcode_loop
from .console import CONSOLE_ADDRESS
from .fast_ops import replace_opcodes
from .fast_precompiles import replace_precompiles

_NO_RESULT = object()
run = opcode_loop().run
_STACK_SHORTCUTS = ("pop_ints", "pop_bytes", "pop_any", "pop1_int", "pop1_bytes", "pop1_any", "push_int", "push_bytes")


class FastStack(Stack):
    """py-evm's stack without re-validating values the EVM itself produced.

    Opcodes already reduce results modulo 2**256 and PUSH reads at most 32
    bytes, so the per-push type and range checks only cost time; the depth
    limit (1024) and underflow checks stay.
    """

    __slots__ = ()

    def push_int(self, value: int) -> None:
        if len(self.values) > 1023:
            raise FullStack("Stack limit reached")
        self._append(value)

    push_bytes = push_int  # type: ignore[assignment]

    def pop_ints(self, num_items: int) -> tuple[int, ...]:
        values = self.values
        if num_items > len(values):
            raise InsufficientStack(f"Wanted {num_items} stack items, only had {len(values)}")
        items = values[-num_items:]
        del values[-num_items:]
        items.reverse()
        return tuple(x if type(x) is int else int.from_bytes(x, "big") for x in items)

    def pop1_int(self) -> int:
        try:
            x = self._pop()
        except IndexError:
            raise InsufficientStack("Wanted 1 stack item, had none") from None
        return x if type(x) is int else int.from_bytes(x, "big")


class CheckedMessage(Message):
    """py-evm's Message for an outermost call whose fields the node has checked already (a parsed eth_call): the
    same object, without validating each field again."""
    __slots__ = ()

    def __init__(self, gas: int, to: bytes, sender: bytes, value: int, data: bytes, code: bytes,
                 is_delegation: bool = False) -> None:
        self.gas, self.to, self.sender, self.value, self.data, self.code = gas, to, sender, value, data, code
        self.depth, self.refund = 0, 0
        self._code_address = self._storage_address = None
        self.should_transfer_value, self.is_static, self._is_delegation = True, False, is_delegation


def fast_computation_class(base: Any) -> Any:
    class FastComputation(base):  # type: ignore[misc, valid-type]
        console_sink: list[bytes] | None = None  # calldata of console.log calls, while someone listens
        inline_precompile_calls = True  # the opcode loop runs a STATICCALL to ECRECOVER itself (not when traced)
        code_size_limit: int | None = 24_576  # EIP-170 (None: no limit); initcode may be twice it (EIP-3860)

        @classmethod
        def validate_contract_code(cls, contract_code: bytes) -> None:
            limit = cls.code_size_limit
            if limit is not None and len(contract_code) > limit:
                raise OutOfGas(f"Contract code size exceeds the limit of {limit} (EIP-170). "
                               f"Got code of size: {len(contract_code)}")
            if contract_code[:1] == b"\xef":  # EIP-3541, as London's check that this replaces
                raise ReservedBytesInCode("Contract code begins with EIP3541 reserved byte '0xEF'.")

        @classmethod
        def validate_create_message(cls, message: Any) -> None:
            limit = cls.code_size_limit
            if limit is not None and len(message.code) > 2 * limit:
                raise OutOfGas(f"Initcode size exceeds the limit of {2 * limit} (EIP-3860). "
                               f"Got code of size: {len(message.code)}")

        def __init__(self, state: Any, message: Any, transaction_context: Any) -> None:
            """py-evm's BaseComputation.__init__ and Shanghai's (EIP-3651: COINBASE warm), on a FastStack rather
            than a py-evm stack made only to be replaced (tests/chain/test_call_paths.py checks it sets what
            py-evm's sets)."""
            self.state, self.msg, self.transaction_context = state, message, transaction_context
            self.code = CodeStream(message.code)
            self._gas_meter = self._configure_gas_meter()
            self.children, self.accounts_to_delete, self.beneficiaries = [], [], []
            self._memory = Memory()
            self._log_entries = []
            self.data_floor_cost = 0
            state.mark_address_warm(state.coinbase)
            self.use_stack(FastStack())

        def use_stack(self, stack: Stack) -> None:
            """Run on `stack`, with py-evm's stack shortcuts bound to it now: they are `cached_property`s whose
            first read per computation asks asyncio whether the getter is a coroutine (~4 us each, several per
            call)."""
            self._stack = stack
            attrs = self.__dict__
            for name in _STACK_SHORTCUTS:
                attrs["stack_" + name] = getattr(stack, name)

        def extend_memory(self, start_position: int, size: int) -> None:
            """py-evm's: the same gas and the same growth, minus its validation (its callers pass stack words) and
            its formatted gas reason unless the gas runs out."""
            if not size:
                return
            before = len(self._memory._bytes)
            if start_position + size <= before:
                return  # nothing grows, nothing to pay
            fee = memory_gas_cost(start_position + size) - memory_gas_cost(before)
            meter = self._gas_meter
            if fee > meter.gas_remaining:
                super().extend_memory(start_position, size)  # raises OutOfGas with py-evm's message
            meter.gas_remaining -= fee
            memory = self._memory  # grown to the next word, as py-evm's Memory.extend
            grow = ((start_position + size + 31) & ~31) - before
            try:
                memory._bytes.extend(bytes(grow))
            except BufferError:  # a view of it is held: py-evm's way round
                memory._bytes = memory._bytes + bytearray(grow)

        @classmethod
        def apply_message_to_discard(cls, state: Any, message: Any, transaction_context: Any) -> Any:
            """py-evm's apply_message for an outermost call whose state is thrown away after it (eth_call): the
            same value transfer and computation, without the snapshot that apply_message takes only to commit or
            revert it, and the account touch that matters only to the state left behind. The caller has checked
            that the sender can pay the value."""
            if message.should_transfer_value and message.value:
                state.delta_balance(message.sender, -message.value)
                state.delta_balance(message.storage_address, message.value)
            return cls.apply_computation(state, message, transaction_context)

        @classmethod
        def apply_computation(cls, state: Any, message: Any, transaction_context: Any,
                              parent_computation: Any = None) -> Any:
            with cls(state, message, transaction_context) as computation:
                if computation.is_origin_computation:
                    computation.contracts_created = []
                    if message.is_create:
                        cls.consume_initcode_gas_cost(computation)
                if parent_computation is not None:
                    computation.contracts_created = parent_computation.contracts_created
                if message.is_create:
                    computation.contracts_created.append(message.storage_address)
                if message.code_address == CONSOLE_ADDRESS and cls.console_sink is not None:
                    cls.console_sink.append(bytes(message.data_as_bytes))  # runs no code: an empty account
                precompile = computation.precompiles.get(message.code_address, _NO_RESULT)
                if precompile is not _NO_RESULT:
                    if not message.is_delegation:
                        precompile(computation)
                    return computation

                run(computation, computation.opcodes, cls.inline_precompile_calls)
            error = computation._error
            if error is not None:  # its traceback's frames hold this computation: a reference cycle that only the
                error.__traceback__ = None  # collector would free, with the whole state behind it
            return computation

    FastComputation.__name__ = f"Fast{base.__name__}"
    FastComputation.opcodes = replace_opcodes(base.opcodes)
    FastComputation._precompiles = replace_precompiles(base.get_precompiles())
    return FastComputation


def quiet_executor_class(base: Any) -> Any:
    """py-evm's Cancun+ executor minus an eagerly formatted debug line.

    `build_evm_message` formats repr(tx), the whole contract code as hex and a
    keccak of the calldata into a debug2 f-string on every transaction, even
    with debug logging off (about a fifth of a simple call's cost).
    """
    from eth.constants import CREATE_CONTRACT_ADDRESS
    from eth._utils.address import generate_contract_address
    from eth.vm.forks.cancun.state import CancunTransactionExecutor
    from eth.vm.forks.cancun.constants import BLOB_TX_TYPE
    from eth.vm.message import Message

    if not issubclass(base, CancunTransactionExecutor):
        return base

    class QuietExecutor(base):  # type: ignore[misc, valid-type]
        def build_evm_message(self, transaction: Any) -> Any:
            state = self.vm_state
            sender = transaction.sender
            fee = transaction.gas * state.get_gas_price(transaction)
            if transaction.type_id == BLOB_TX_TYPE:
                fee += self.calc_data_fee(transaction)
            state.delta_balance(sender, -fee)
            state.increment_nonce(sender)
            refund = self.calc_message_refund(transaction)
            gas = transaction.gas - transaction.intrinsic_gas
            if transaction.to == CREATE_CONTRACT_ADDRESS:
                create_address = generate_contract_address(sender, state.get_nonce(sender) - 1)
                data, code, is_delegation = b"", transaction.data, False
            else:
                create_address = None
                data = transaction.data
                code, delegation = self.get_code_at_address(transaction.to)
                is_delegation = delegation is not None
            return Message(gas=gas, to=transaction.to, sender=sender, value=transaction.value, data=data, code=code,
                           create_address=create_address, refund=refund, is_delegation=is_delegation)

    return QuietExecutor
