"""web3.py's own conformance suites (EthModuleTest, NetModuleTest, Web3ModuleTest) over HTTP.

Fixtures mirror web3.py's tests/integration/ethereum_tester setup, pinned to the
web3 version in pyproject. eth-tester marks about 28 of these as not
implemented; the ones marked here say why.
"""

from __future__ import annotations

import functools
from typing import Any, Iterator

import pytest
from eth_utils import is_checksum_address
from web3 import Web3
from web3._utils.contract_sources.contract_data._custom_contract_data import EMITTER_ENUM
from web3._utils.contract_sources.contract_data.emitter_contract import EMITTER_CONTRACT_DATA
from web3._utils.contract_sources.contract_data.math_contract import MATH_CONTRACT_DATA
from web3._utils.contract_sources.contract_data.offchain_lookup import OFFCHAIN_LOOKUP_DATA
from web3._utils.contract_sources.contract_data.panic_errors_contract import PANIC_ERRORS_CONTRACT_DATA
from web3._utils.contract_sources.contract_data.revert_contract import REVERT_CONTRACT_DATA
from web3._utils.contract_sources.contract_data.storage_contract import STORAGE_CONTRACT_DATA
from web3._utils.module_testing import EthModuleTest, NetModuleTest, Web3ModuleTest

from chain import Node, NodeConfig
from chain.server import ServerThread

KEYFILE_ACCOUNT_PKEY = "0x58d23b55bc9cdce1f18c2500f40ff4ab7245df9a89505e9b1fa4851f623d241d"
KEYFILE_ACCOUNT_ADDRESS = "0xdC544d1AA88Ff8bbd2F2AeC754B1F1e99e1812fd"


CHAIN_ID = 131277322940537  # the chain id of web3.py's geth fixture, which the suites assert


@pytest.fixture(scope="module")
def conformance_node() -> Iterator[tuple[Node, ServerThread]]:
    node = Node(NodeConfig(accounts=3, chain_id=CHAIN_ID))
    node.add_account(bytes.fromhex(KEYFILE_ACCOUNT_PKEY[2:]))
    server = ServerThread(node).start()
    yield node, server
    server.stop()
    node.close()


def _deploy(w3: Web3, data: dict[str, Any]) -> Any:
    factory = w3.eth.contract(**data)
    receipt = w3.eth.wait_for_transaction_receipt(factory.constructor().transact({"from": w3.eth.default_account}))
    assert is_checksum_address(receipt["contractAddress"])
    return factory(receipt["contractAddress"])


@pytest.fixture(scope="module")
def chain_fixture(conformance_node: tuple[Node, ServerThread]) -> dict[str, Any]:
    """Build the chain in the order web3's geth fixture generator does, ending on an empty block."""
    web3 = Web3(Web3.HTTPProvider(conformance_node[1].url))
    web3.eth.default_account = web3.eth.accounts[0]
    me = web3.eth.default_account
    web3.eth.send_transaction({"from": me, "to": KEYFILE_ACCOUNT_ADDRESS, "value": web3.to_wei(10, "ether"),
                               "gas": 21_000, "gasPrice": 10**10})
    out: dict[str, Any] = {"w3": web3}
    out["math_contract_deploy_txn_hash"] = web3.eth.contract(**MATH_CONTRACT_DATA).constructor().transact({"from": me})
    receipt = web3.eth.wait_for_transaction_receipt(out["math_contract_deploy_txn_hash"])
    out["math_contract"] = web3.eth.contract(**MATH_CONTRACT_DATA)(receipt["contractAddress"])
    out["emitter_contract"] = _deploy(web3, EMITTER_CONTRACT_DATA)
    out["revert_contract"] = _deploy(web3, REVERT_CONTRACT_DATA)
    out["offchain_lookup_contract"] = _deploy(web3, OFFCHAIN_LOOKUP_DATA)
    out["panic_errors_contract"] = _deploy(web3, PANIC_ERRORS_CONTRACT_DATA)
    out["storage_contract"] = _deploy(web3, STORAGE_CONTRACT_DATA)
    txn_hash = web3.eth.send_transaction({"from": me, "to": me, "value": web3.to_wei(1, "gwei"), "gas": 21_000,
                                          "gasPrice": 10**10})
    out["block_with_txn"] = web3.eth.get_block(web3.eth.get_transaction(txn_hash)["blockNumber"])
    txn_hash = out["emitter_contract"].functions.logDouble(
        which=EMITTER_ENUM["LogDoubleWithIndex"], arg0=12345, arg1=54321).transact({"from": me})
    out["block_with_txn_with_log"] = web3.eth.get_block(web3.eth.get_transaction(txn_hash)["blockNumber"])
    for _ in range(5):  # the batch-request tests read blocks 1..6
        web3.provider.make_request("evm_mine", [])
    out["empty_block"] = web3.eth.get_block("latest")
    assert not out["empty_block"]["transactions"]
    return out


@pytest.fixture
def w3(chain_fixture: dict[str, Any]) -> Iterator[Web3]:
    """Each test starts from the same fixture chain (a snapshot reverted afterwards)."""
    web3 = chain_fixture["w3"]
    snapshot = web3.provider.make_request("evm_snapshot", [])["result"]
    yield web3
    web3.provider.make_request("evm_setAutomine", [True])
    assert web3.provider.make_request("evm_revert", [snapshot])["result"] is True


def _from_fixture(name: str) -> Any:
    @pytest.fixture(name=name)
    def fixture(chain_fixture: dict[str, Any]) -> Any:
        return chain_fixture[name]

    return fixture


math_contract_deploy_txn_hash = _from_fixture("math_contract_deploy_txn_hash")
math_contract = _from_fixture("math_contract")
emitter_contract = _from_fixture("emitter_contract")
revert_contract = _from_fixture("revert_contract")
offchain_lookup_contract = _from_fixture("offchain_lookup_contract")
panic_errors_contract = _from_fixture("panic_errors_contract")
storage_contract = _from_fixture("storage_contract")
block_with_txn = _from_fixture("block_with_txn")
block_with_txn_with_log = _from_fixture("block_with_txn_with_log")
empty_block = _from_fixture("empty_block")


@pytest.fixture
def math_contract_address(math_contract: Any) -> str:
    return math_contract.address


@pytest.fixture
def emitter_contract_address(emitter_contract: Any) -> str:
    return emitter_contract.address


@pytest.fixture
def mined_txn_hash(block_with_txn: Any) -> Any:
    return block_with_txn["transactions"][0]


@pytest.fixture
def txn_hash_with_log(block_with_txn_with_log: Any) -> Any:
    return block_with_txn_with_log["transactions"][0]


@pytest.fixture
def keyfile_account_pkey() -> str:
    return KEYFILE_ACCOUNT_PKEY


@pytest.fixture
def keyfile_account_address() -> str:
    return KEYFILE_ACCOUNT_ADDRESS


@pytest.fixture
def keyfile_account_address_dual_type(keyfile_account_address: str) -> str:
    return keyfile_account_address


@pytest.fixture
def skip_if_testrpc() -> Any:
    return lambda w3: None  # we are not the old testrpc


def manual_mining(func: Any) -> Any:
    """Run a test with automine off (as web3's eth-tester suite does), then restore."""

    @functools.wraps(func)
    def wrapper(self: Any, w3: Web3, *args: Any, **kwargs: Any) -> None:
        w3.provider.make_request("evm_setAutomine", [False])
        func(self, w3, *args, **kwargs)

    return wrapper


class TestBourseWeb3Module(Web3ModuleTest):
    def _check_web3_client_version(self, client_version: str) -> None:
        assert client_version.startswith("anvil-compatible/bourse/")


class TestBourseNetModule(NetModuleTest):
    pass


class TestBourseEthModule(EthModuleTest):
    # The pending block carries the hash of its header as it stands, the coinbase and a zero nonce, as anvil
    # answers and the execution-apis block schema requires; web3.py's suite expects geth's nulls.
    test_eth_getBlockByHash_pending = pytest.mark.xfail(
        reason="pending block has a hash (anvil, execution-apis schema)", strict=True)(
        EthModuleTest.test_eth_getBlockByHash_pending)
    # We reject the message with -32602 (see test_rpc_http); web3 raises that as Web3RPCError,
    # while this test expects the Web3ValueError of an in-process validator.
    test_invalid_eth_sign_typed_data = pytest.mark.xfail(
        reason="node rejects with -32602 -> Web3RPCError, suite expects client-side Web3ValueError", strict=True)(
        EthModuleTest.test_invalid_eth_sign_typed_data)
    # Uses web3.py's own `request_mocker` fixture from its private conftest, not a node feature.
    test_eth_max_priority_fee_with_fee_history_calculation = pytest.mark.skip(
        reason="needs web3.py's private request_mocker fixture")(
        EthModuleTest.test_eth_max_priority_fee_with_fee_history_calculation)

    @manual_mining
    def test_eth_get_transaction_receipt_unmined(self, w3: Web3, keyfile_account_address_dual_type: str) -> None:
        super().test_eth_get_transaction_receipt_unmined(w3, keyfile_account_address_dual_type)

    @manual_mining
    def test_eth_wait_for_transaction_receipt_unmined(self, w3: Web3, keyfile_account_address_dual_type: str) -> None:
        super().test_eth_wait_for_transaction_receipt_unmined(w3, keyfile_account_address_dual_type)

    @manual_mining
    def test_eth_replace_transaction_legacy(self, w3: Web3, keyfile_account_address_dual_type: str) -> None:
        super().test_eth_replace_transaction_legacy(w3, keyfile_account_address_dual_type)

    @manual_mining
    def test_eth_replace_transaction(self, w3: Web3, keyfile_account_address_dual_type: str) -> None:
        super().test_eth_replace_transaction(w3, keyfile_account_address_dual_type)

    @manual_mining
    def test_eth_replace_transaction_underpriced(self, w3: Web3, keyfile_account_address_dual_type: str) -> None:
        super().test_eth_replace_transaction_underpriced(w3, keyfile_account_address_dual_type)

    @manual_mining
    def test_eth_replace_transaction_incorrect_nonce(self, w3: Web3, keyfile_account_address: str) -> None:
        super().test_eth_replace_transaction_incorrect_nonce(w3, keyfile_account_address)

    @manual_mining
    def test_eth_replace_transaction_gas_price_too_low(self, w3: Web3, keyfile_account_address_dual_type: str) -> None:
        super().test_eth_replace_transaction_gas_price_too_low(w3, keyfile_account_address_dual_type)

    @manual_mining
    def test_eth_replace_transaction_gas_price_defaulting_minimum(self, w3: Web3, keyfile_account_address: str) -> None:
        super().test_eth_replace_transaction_gas_price_defaulting_minimum(w3, keyfile_account_address)

    @manual_mining
    def test_eth_replace_transaction_gas_price_defaulting_strategy_higher(
            self, w3: Web3, keyfile_account_address: str) -> None:
        super().test_eth_replace_transaction_gas_price_defaulting_strategy_higher(w3, keyfile_account_address)

    @manual_mining
    def test_eth_replace_transaction_gas_price_defaulting_strategy_lower(
            self, w3: Web3, keyfile_account_address: str) -> None:
        super().test_eth_replace_transaction_gas_price_defaulting_strategy_lower(w3, keyfile_account_address)

    @manual_mining
    def test_eth_modify_transaction_legacy(self, w3: Web3, keyfile_account_address: str) -> None:
        super().test_eth_modify_transaction_legacy(w3, keyfile_account_address)

    @manual_mining
    def test_eth_modify_transaction(self, w3: Web3, keyfile_account_address: str) -> None:
        super().test_eth_modify_transaction(w3, keyfile_account_address)
