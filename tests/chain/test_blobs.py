"""Blob transactions (EIP-4844): the network form with KZG blob proofs (version 0) or EIP-7594 cell proofs
(version 1), the blob gas market per fork, BLOBHASH, anvil_getBlobByHash/anvil_getBlobsByTransactionHash kept
across a restart, refusals with their reasons, and the same transactions sent to anvil 1.7.1 and by cast."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import ckzg
import pytest
import requests
import rlp
from eth_account import Account

from chain import Node, NodeConfig
from chain.blobs import GAS_PER_BLOB, next_excess_blob_gas, trusted_setup, versioned_hash
from chain.provider import BourseProvider
from tests.tools import running_anvil, tool

KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ACCOUNT = Account.from_key(KEY)
TO = "0x" + "11" * 20
GWEI = 10**9


def _blob(seed: int) -> bytes:
    """A blob: 4,096 field elements, each below the BLS modulus."""
    return b"".join((seed * 4096 + i).to_bytes(32, "big") for i in range(4096))


def _blob_tx(blobs: list[bytes], nonce: int, version: int = 0, to: str = TO, chain_id: int = 31337,
             proof_blobs: list[bytes] | None = None, hashes: list[bytes] | None = None) -> bytes:
    """A signed type-3 transaction in its network form; `proof_blobs` proves other blobs (a wrong proof)."""
    setup = trusted_setup()
    commitments = [ckzg.blob_to_kzg_commitment(b, setup) for b in blobs]
    tx = {"type": 3, "chainId": chain_id, "nonce": nonce, "to": to, "value": 0, "gas": 100_000,
          "maxFeePerGas": 10 * GWEI, "maxPriorityFeePerGas": GWEI, "maxFeePerBlobGas": 10 * GWEI,
          "blobVersionedHashes": hashes if hashes is not None else [versioned_hash(c) for c in commitments]}
    body = rlp.decode(bytes(ACCOUNT.sign_transaction(tx).raw_transaction)[1:])
    proving = proof_blobs or blobs
    if version == 0:
        proofs = [ckzg.compute_blob_kzg_proof(b, ckzg.blob_to_kzg_commitment(b, setup), setup) for b in proving]
        return b"\x03" + rlp.encode([body, blobs, commitments, proofs])
    cell_proofs = [proof for b in proving for proof in ckzg.compute_cells_and_kzg_proofs(b, setup)[1]]
    return b"\x03" + rlp.encode([body, b"\x01", blobs, commitments, cell_proofs])


def _pv(**config: Any) -> BourseProvider:
    return BourseProvider(Node(NodeConfig(**config)))


def _ok(pv: BourseProvider, method: str, params: list[Any]) -> Any:
    reply = pv.call(method, params)
    assert "error" not in reply, reply
    return reply["result"]


def _send(pv: BourseProvider, raw: bytes) -> dict[str, Any]:
    return pv.call("eth_sendRawTransaction", ["0x" + raw.hex()])


@pytest.mark.parametrize("version", [0, 1])
def test_a_blob_transaction_is_mined_with_its_blob_gas(version: int) -> None:
    pv = _pv()
    blobs = [_blob(1), _blob(2)]
    # the recipient stores BLOBHASH(1): the second blob's versioned hash
    _ok(pv, "anvil_setCode", [TO, "0x600149600055" + "00"])
    tx_hash = _ok(pv, "eth_sendRawTransaction", ["0x" + _blob_tx(blobs, 0, version).hex()])
    receipt = _ok(pv, "eth_getTransactionReceipt", [tx_hash])
    assert receipt["status"] == "0x1" and receipt["type"] == "0x3"
    assert receipt["blobGasUsed"] == hex(2 * GAS_PER_BLOB) and receipt["blobGasPrice"] == "0x1"
    block = _ok(pv, "eth_getBlockByNumber", [receipt["blockNumber"], False])
    assert block["blobGasUsed"] == hex(2 * GAS_PER_BLOB) and block["excessBlobGas"] == "0x0"
    tx = _ok(pv, "eth_getTransactionByHash", [tx_hash])
    setup = trusted_setup()
    hashes = ["0x" + versioned_hash(ckzg.blob_to_kzg_commitment(b, setup)).hex() for b in blobs]
    assert tx["blobVersionedHashes"] == hashes and tx["maxFeePerBlobGas"] == hex(10 * GWEI)
    assert _ok(pv, "eth_getStorageAt", [TO, "0x0", "latest"]) == hashes[1]
    assert _ok(pv, "anvil_getBlobByHash", [hashes[0]]) == "0x" + blobs[0].hex()
    assert _ok(pv, "anvil_getBlobsByTransactionHash", [tx_hash]) == ["0x" + b.hex() for b in blobs]
    assert _ok(pv, "anvil_getBlobByHash", ["0x01" + "00" * 31]) is None
    assert _ok(pv, "anvil_getBlobsByTransactionHash", ["0x" + "00" * 32]) is None
    # the raw transaction a block holds is the canonical one, without the sidecar
    raw = _ok(pv, "eth_getRawTransactionByHash", [tx_hash])
    assert len(raw) < 2_000


def test_the_sender_pays_the_blob_gas() -> None:
    pv = _pv()
    before = int(_ok(pv, "eth_getBalance", [ACCOUNT.address, "latest"]), 16)
    tx_hash = _ok(pv, "eth_sendRawTransaction", ["0x" + _blob_tx([_blob(3)], 0).hex()])
    receipt = _ok(pv, "eth_getTransactionReceipt", [tx_hash])
    after = int(_ok(pv, "eth_getBalance", [ACCOUNT.address, "latest"]), 16)
    execution = int(receipt["gasUsed"], 16) * int(receipt["effectiveGasPrice"], 16)
    assert before - after == execution + GAS_PER_BLOB * int(receipt["blobGasPrice"], 16)


def test_excess_blob_gas_follows_the_fork_schedule() -> None:
    pv = _pv(hardfork="cancun")  # target 3 blobs, at most 6
    tx_hash = _ok(pv, "eth_sendRawTransaction", ["0x" + _blob_tx([_blob(i) for i in range(5)], 0).hex()])
    number = _ok(pv, "eth_getTransactionReceipt", [tx_hash])["blockNumber"]
    _ok(pv, "evm_mine", [])
    nxt = _ok(pv, "eth_getBlockByNumber", [hex(int(number, 16) + 1), False])
    assert nxt["excessBlobGas"] == hex(2 * GAS_PER_BLOB)  # five used, three targeted
    assert _ok(pv, "eth_blobBaseFee", []) == "0x1"  # fake_exponential(1, 262144, 3338477) is still 1
    history = _ok(pv, "eth_feeHistory", ["0x2", number, []])
    assert history["blobGasUsedRatio"][-1] == 5 / 6 and len(history["baseFeePerBlobGas"]) == 3


def test_osaka_reserve_price_raises_the_excess() -> None:
    # EIP-7918: while execution gas is dear next to blob gas, a block above target adds used * (max-target)/max
    assert next_excess_blob_gas(0, 7 * GAS_PER_BLOB, GWEI, "osaka") == 7 * GAS_PER_BLOB * 3 // 9
    assert next_excess_blob_gas(0, 7 * GAS_PER_BLOB, GWEI, "prague") == GAS_PER_BLOB
    assert next_excess_blob_gas(0, 7 * GAS_PER_BLOB, 0, "osaka") == GAS_PER_BLOB  # blob gas dearer: as Prague
    assert next_excess_blob_gas(GAS_PER_BLOB, 0, GWEI, "osaka") == 0  # below target
    assert next_excess_blob_gas(10**9, 0, GWEI, "shanghai") == 0


@pytest.mark.parametrize("case, reason", [
    ("wrong proof", "KZG proofs do not verify"),
    ("wrong hash", "does not match versioned hash"),
    ("no sidecar", "without its blobs"),
    ("too many", "at most 6 per transaction under osaka"),
    ("creation", "cannot create a contract"),
])
def test_bad_blob_transactions_are_refused_and_change_nothing(case: str, reason: str) -> None:
    pv = _pv()
    blob = _blob(4)
    if case == "wrong proof":
        raw = _blob_tx([blob], 0, proof_blobs=[_blob(5)])
    elif case == "wrong hash":
        raw = _blob_tx([blob], 0, hashes=[b"\x01" + b"\x22" * 31])
    elif case == "no sidecar":
        raw = _blob_tx([blob], 0)
        raw = b"\x03" + rlp.encode(rlp.decode(raw[1:])[0])
    elif case == "too many":
        raw = _blob_tx([_blob(i) for i in range(7)], 0)
    else:
        raw = _blob_tx([blob], 0, to="")
    head = _ok(pv, "eth_blockNumber", [])
    error = _send(pv, raw)["error"]
    assert reason in error["message"] and error["code"] in (-32003, -32602), error
    assert _ok(pv, "eth_blockNumber", []) == head
    assert _ok(pv, "eth_getTransactionCount", [ACCOUNT.address, "pending"]) == "0x0"


def test_blob_transactions_need_cancun() -> None:
    pv = _pv(hardfork="shanghai")
    error = _send(pv, _blob_tx([_blob(6)], 0))["error"]
    assert error["code"] == -32003 and "not supported under the shanghai hardfork" in error["message"]


def test_blobs_are_kept_across_a_restart(tmp_path: Path) -> None:
    node = Node(NodeConfig(data_dir=tmp_path, no_mining=True))
    pv = BourseProvider(node)
    tx_hash = _ok(pv, "eth_sendRawTransaction", ["0x" + _blob_tx([_blob(7)], 0).hex()])
    node.close()
    node = Node(NodeConfig(data_dir=tmp_path, no_mining=True))
    pv = BourseProvider(node)
    assert _ok(pv, "anvil_getBlobsByTransactionHash", [tx_hash]) == ["0x" + _blob(7).hex()]
    _ok(pv, "evm_mine", [])
    assert _ok(pv, "eth_getTransactionReceipt", [tx_hash])["blobGasUsed"] == hex(GAS_PER_BLOB)
    node.close()


def test_web3_and_eth_account_blob_transaction() -> None:
    """eth-account signs the blobs itself (EIP-7594 cell proofs, computed in Python: slow, so one blob)."""
    from web3 import Web3

    w3 = Web3(_pv())
    tx = {"type": 3, "chainId": 31337, "nonce": 0, "to": TO, "value": 0, "gas": 100_000,
          "maxFeePerGas": 10 * GWEI, "maxPriorityFeePerGas": GWEI, "maxFeePerBlobGas": 10 * GWEI}
    signed = ACCOUNT.sign_transaction(tx, blobs=[_blob(8)])
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction))
    assert receipt["status"] == 1 and receipt["blobGasUsed"] == GAS_PER_BLOB


@pytest.mark.skipif(tool("anvil") is None, reason="anvil is not installed (.ci/run installs it)")
def test_anvil_agrees() -> None:
    """The same network-form transactions to anvil 1.7.1: both accept the good ones and give the same blob gas
    and blobs back, and both refuse a wrong proof."""
    good = [_blob_tx([_blob(9)], 0, version=0), _blob_tx([_blob(10), _blob(11)], 1, version=1)]
    bad = _blob_tx([_blob(12)], 2, proof_blobs=[_blob(13)])
    pv = _pv()
    ours = []
    for raw in good:
        tx_hash = _ok(pv, "eth_sendRawTransaction", ["0x" + raw.hex()])
        receipt = _ok(pv, "eth_getTransactionReceipt", [tx_hash])
        ours.append((tx_hash, receipt["blobGasUsed"], receipt["blobGasPrice"],
                     _ok(pv, "anvil_getBlobsByTransactionHash", [tx_hash])))
    assert "error" in _send(pv, bad)
    with running_anvil() as url:
        def call(method: str, params: list[Any]) -> Any:
            return requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).json()

        theirs = []
        for raw in good:
            tx_hash = call("eth_sendRawTransaction", ["0x" + raw.hex()])["result"]
            receipt = None
            for _ in range(100):
                receipt = call("eth_getTransactionReceipt", [tx_hash])["result"]
                if receipt is not None:
                    break
                call("evm_mine", [])
            assert receipt is not None
            theirs.append((tx_hash, receipt["blobGasUsed"], receipt["blobGasPrice"],
                           call("anvil_getBlobsByTransactionHash", [tx_hash])["result"]))
        assert "error" in call("eth_sendRawTransaction", ["0x" + bad.hex()])
    assert ours == theirs


@pytest.mark.skipif(tool("cast") is None, reason="cast is not installed (.ci/run installs it)")
def test_cast_sends_a_blob_transaction(tmp_path: Path) -> None:
    from chain.server import ServerThread

    node = Node(NodeConfig())
    blob_file = tmp_path / "data.bin"
    blob_file.write_bytes(b"hello blobs" * 100)
    server = ServerThread(node).start()
    try:
        out = subprocess.run([tool("cast"), "send", "--blob", "--path", str(blob_file), "--private-key", KEY,
                              "--rpc-url", server.url, TO, "--json"], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        pv = BourseProvider(node)
        block = _ok(pv, "eth_getBlockByNumber", ["latest", True])
        [tx] = block["transactions"]
        assert tx["type"] == "0x3" and len(tx["blobVersionedHashes"]) == 1
        assert _ok(pv, "anvil_getBlobsByTransactionHash", [tx["hash"]]) is not None
    finally:
        server.stop()
        node.close()
