"""eth_call's message path and the full transaction path agree on results and errors."""

from __future__ import annotations

import pytest

from chain import Node, NodeConfig
from chain.rpc.params import CallRequest

from .evm_code import LOADER, error_string, reverter

CALLER_BALANCE = bytes([0x33, 0x31, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xF3])  # return BALANCE(CALLER)
CALLVALUE = bytes([0x34, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xF3])  # return CALLVALUE
SELF_BALANCE = bytes([0x47, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xF3])  # return SELFBALANCE (value included)


@pytest.fixture(scope="module")
def node() -> Node:
    node = Node(NodeConfig(accounts=2, predeploy=False))
    for i, code in enumerate((LOADER, reverter(error_string("nope")), CALLER_BALANCE, CALLVALUE,
                                  SELF_BALANCE)):
        node.edit(lambda o, i=i, code=code: o.set_code(bytes([0xC0 + i]) * 20, code))
    node.edit(lambda o: o.set_storage(bytes([0xC0]) * 20, 7, 99))
    return node


def _both(node: Node, req: CallRequest) -> tuple[object, object]:
    head = node.backend.head.number
    fast = node.executor._message_call(req, head, None)
    full = node.executor.run(req, head)
    assert fast is not None, "this call should take the message path"
    return (fast.output, type(fast.error)), (full.output, type(full.error))


@pytest.mark.parametrize("target,data,value,gas_price", [
    (0xC0, (7).to_bytes(32, "big"), 0, None),
    (0xC1, b"", 0, None),
    (0xC2, b"", 0, None),
    (0xC2, b"", 0, 10**9),  # the sender's balance after buying gas
    (0xC3, b"", 12345, None),
    (0xC4, b"", 12345, None),
    (0xC4, b"", 12345, 10**9),
])
def test_message_path_matches_full_path(node: Node, target: int, data: bytes, value: int, gas_price: int) -> None:
    req = CallRequest(sender=node.accounts[0].address, to=bytes([target]) * 20, data=data, value=value,
                      gas_price=gas_price, gas=100_000)
    fast, full = _both(node, req)
    assert fast == full


def test_calls_the_message_path_cannot_answer_fall_back(node: Node) -> None:
    poor = CallRequest(sender=b"\x09" * 20, to=bytes([0xC3]) * 20, value=1)
    assert node.executor._message_call(poor, node.backend.head.number, None) is None  # full path reports funds
    listed = CallRequest(sender=node.accounts[0].address, to=bytes([0xC0]) * 20, has_access_list=True)
    assert node.executor._message_call(listed, node.backend.head.number, None) is None


def test_the_lean_message_and_computation_set_what_py_evm_s_set(node: Node) -> None:
    """CheckedMessage and FastComputation.__init__ skip py-evm's validation and its throwaway stack: they must still
    leave every field py-evm's constructors leave, with the same values (a py-evm upgrade that adds one fails here)."""
    from eth.vm.message import Message

    from chain.evm import CheckedMessage
    from chain.state import Overlay

    fields = dict(gas=50_000, to=b"\xc0" * 20, sender=b"\x01" * 20, value=7, data=b"\x00\x01", code=b"\x60\x00")
    checked, plain = CheckedMessage(**fields, is_delegation=True), Message(**fields, is_delegation=True)
    slots = [slot for cls in type(plain).__mro__ for slot in getattr(cls, "__slots__", ())]
    unset = object()  # py-evm leaves some slots unset (create_address): so must the lean one
    assert slots and {s: getattr(checked, s, unset) for s in slots} == {s: getattr(plain, s, unset) for s in slots}

    backend = node.backend
    header = backend.pending_header()
    fast_class = backend.state_class.computation_class
    py_evm_class = fast_class.__mro__[1]  # the fork's own computation, which FastComputation extends
    state = backend.state_for(Overlay(backend.live), header)
    context = state.get_transaction_context_class()(gas_price=0, origin=b"\x01" * 20)
    fast, reference = fast_class(state, plain, context), py_evm_class(state, plain, context)
    expected = {k: v for k, v in vars(reference).items() if k not in ("_stack", "code", "_gas_meter", "_memory")}
    assert {k: v for k, v in vars(fast).items() if k in expected} == expected
    assert set(vars(reference)) <= set(vars(fast))
    assert fast.code._raw_code_bytes == reference.code._raw_code_bytes
    assert fast._gas_meter.gas_remaining == reference._gas_meter.gas_remaining == 50_000
    fresh = backend.state_for(Overlay(backend.live), header)
    assert not fresh.is_address_warm(backend.coinbase)
    fast_class(fresh, plain, context)
    assert fresh.is_address_warm(backend.coinbase)  # EIP-3651
