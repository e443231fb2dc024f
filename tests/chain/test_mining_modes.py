"""Mining modes: automine, interval (--block-time / evm_setIntervalMining) and manual."""

from __future__ import annotations

import time

from chain import MiningMode, Node, NodeConfig
from chain.provider import BourseProvider

A0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
A1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def _wait_for(predicate, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_mode_follows_the_flags() -> None:
    assert NodeConfig().mining_mode is MiningMode.AUTO
    assert NodeConfig(block_time=2).mining_mode is MiningMode.INTERVAL
    assert NodeConfig(no_mining=True).mining_mode is MiningMode.MANUAL


def test_interval_mode_mines_pending_transactions_on_its_own() -> None:
    node = Node(NodeConfig(accounts=2, block_time=0.2))
    provider = BourseProvider(node)
    node.start_interval_miner()
    try:
        tx_hash = provider.call("eth_sendTransaction", [{"from": A0, "to": A1, "value": "0x1"}])["result"]
        assert provider.call("eth_getTransactionReceipt", [tx_hash])["result"] is None  # not mined on arrival
        assert _wait_for(lambda: provider.call("eth_getTransactionReceipt", [tx_hash])["result"] is not None)
        first = node.backend.head.number
        assert _wait_for(lambda: node.backend.head.number >= first + 2)  # empty blocks keep coming
    finally:
        node.close()


def test_set_interval_mining_switches_modes_at_run_time() -> None:
    node = Node(NodeConfig(accounts=2))
    provider = BourseProvider(node)
    node.start_interval_miner()
    try:
        provider.call("evm_setIntervalMining", [1])
        assert node.mode is MiningMode.INTERVAL
        head = node.backend.head.number
        assert _wait_for(lambda: node.backend.head.number > head, timeout=5)
        provider.call("evm_setIntervalMining", [0])
        assert node.mode is MiningMode.MANUAL
        time.sleep(0.1)
        head = node.backend.head.number
        time.sleep(1.3)
        assert node.backend.head.number == head
        provider.call("evm_setAutomine", [True])
        assert node.mode is MiningMode.AUTO
    finally:
        node.close()


def test_bare_chain_has_no_platform_contracts_and_default_has_them() -> None:
    from contracts.predeploy import PREDEPLOYS

    bare, full = Node(NodeConfig(accounts=1, predeploy=False)), Node(NodeConfig(accounts=1))
    try:
        for item in PREDEPLOYS:
            address = bytes.fromhex(item.address[2:])
            assert bare.backend.code(address, 0) == b""
            assert full.backend.code(address, 0) != b""
        assert full.backend.nonce(full.accounts[0].address, 0) == 0  # predeploys leave account 0's nonce alone
    finally:
        bare.close()
        full.close()


A2 = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
GWEI = 10**9


SENDS = ((A0, 0, 1), (A1, 0, 3), (A2, 0, 2), (A0, 1, 10))  # (sender, nonce, tip in gwei), in the order sent


def _block_order(order: str, sends: tuple[tuple[str, int, int], ...] = SENDS) -> list[tuple[str, int]]:
    """Transactions sent with mining off, then one block: (sender, nonce) in the block's order."""
    node = Node(NodeConfig(accounts=3, no_mining=True, order=order))
    provider = BourseProvider(node)
    for sender, nonce, tip in sends:
        reply = provider.call("eth_sendTransaction", [{"from": sender, "to": A0, "value": "0x1", "nonce": hex(nonce),
                                                       "maxFeePerGas": hex(100 * GWEI),
                                                       "maxPriorityFeePerGas": hex(tip * GWEI)}])
        assert "result" in reply, reply
    pending = [(tx["from"], int(tx["nonce"], 16)) for tx in provider.call(
        "eth_getBlockByNumber", ["pending", True])["result"]["transactions"]]
    provider.call("evm_mine", [])
    block = provider.call("eth_getBlockByNumber", ["latest", True])["result"]
    mined = [(tx["from"], int(tx["nonce"], 16)) for tx in block["transactions"]]
    node.close()
    assert pending == mined
    return mined


def test_fees_order_takes_the_highest_tip_first_each_sender_in_nonce_order() -> None:
    # A0's second transaction tips most, but it waits for A0's first, which tips least
    assert _block_order("fees") == [(A1.lower(), 0), (A2.lower(), 0), (A0.lower(), 0), (A0.lower(), 1)]
    # once a sender's first is in, its next competes on its own tip with everyone else's
    sends = ((A0, 0, 5), (A0, 1, 1), (A1, 0, 3), (A2, 0, 2))
    assert _block_order("fees", sends) == [(A0.lower(), 0), (A1.lower(), 0), (A2.lower(), 0), (A0.lower(), 1)]


def test_fifo_order_takes_transactions_as_they_came() -> None:
    assert _block_order("fifo") == [(A0.lower(), 0), (A1.lower(), 0), (A2.lower(), 0), (A0.lower(), 1)]


def test_an_unknown_order_is_a_usage_error() -> None:
    from click.testing import CliRunner

    from chain.cli import node_command

    result = CliRunner().invoke(node_command, ["--order", "lifo", "--port", "0"])
    assert result.exit_code == 2 and "'lifo' is not one of 'fees', 'fifo'" in result.output


def test_fifo_order_survives_a_restart(tmp_path) -> None:  # type: ignore[no-untyped-def]
    node = Node(NodeConfig(accounts=3, no_mining=True, order="fifo", data_dir=tmp_path))
    provider = BourseProvider(node)
    sends = ((A2, 0, 2), (A0, 0, 1), (A1, 0, 3), (A0, 1, 10), (A2, 1, 1))
    for sender, nonce, tip in sends:
        reply = provider.call("eth_sendTransaction", [{"from": sender, "to": A0, "value": "0x1", "nonce": hex(nonce),
                                                       "maxFeePerGas": hex(100 * GWEI),
                                                       "maxPriorityFeePerGas": hex(tip * GWEI)}])
        assert "result" in reply, reply
    node.close()
    node = Node(NodeConfig(accounts=3, no_mining=True, order="fifo", data_dir=tmp_path))
    provider = BourseProvider(node)
    provider.call("evm_mine", [])
    block = provider.call("eth_getBlockByNumber", ["latest", True])["result"]
    node.close()
    assert [(tx["from"], int(tx["nonce"], 16)) for tx in block["transactions"]] == [
        (sender.lower(), nonce) for sender, nonce, _ in sends]
