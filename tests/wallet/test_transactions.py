from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from eth_abi import encode

from contracts.predeploy import address_of
from wallet.calldata import ERC20_TRANSFER, decode_token_call, encode_call
from wallet.errors import RpcError, TransactionFileError, WalletError
from wallet.rpc import Rpc
from wallet.store import KeyStore
from wallet.transactions import (
    build_transaction,
    read_signed,
    read_unsigned,
    send_signed,
    sign_transaction,
    summary,
    write_signed,
    write_unsigned,
)

from .conftest import ADDR0, ADDR1, ADDR2, KEY0, KEY1, PASSWORD

TOKEN = address_of("PlatformToken")


def test_built_transaction_takes_nonce_fees_gas_and_chain_id_from_the_node(rpc: Rpc) -> None:
    tx = build_transaction(rpc, ADDR0, ADDR1, 10**18)
    assert tx.chain_id == 31337 and tx.nonce == rpc.nonce(ADDR0) and tx.gas == 21_000
    base_fee = int(rpc.call("eth_getBlockByNumber", "latest", False)["baseFeePerGas"], 16)
    assert tx.max_fee_per_gas >= base_fee and tx.max_priority_fee_per_gas <= tx.max_fee_per_gas


def test_build_sign_send_moves_the_value(rpc: Rpc) -> None:
    before = rpc.balance(ADDR1)
    receipt = send_signed(rpc, sign_transaction(build_transaction(rpc, ADDR0, ADDR1, 12345), KEY0))
    assert receipt["status"] == "0x1"
    assert rpc.balance(ADDR1) == before + 12345


def test_signing_with_a_key_that_is_not_the_sender_is_refused(rpc: Rpc) -> None:
    tx = build_transaction(rpc, ADDR0, ADDR1, 1)
    with pytest.raises(WalletError, match="key is 0x7099"):
        sign_transaction(tx, KEY1)


def test_erc20_transfer_summary_shows_recipient_and_amount_in_token_units(rpc: Rpc) -> None:
    data = ERC20_TRANSFER + encode(["address", "uint256"], [ADDR2, 15 * 10**17])
    tx = build_transaction(rpc, ADDR0, TOKEN, 0, data)
    assert tx.token == {"decimals": 18, "symbol": "BRS"}
    text = "\n".join(summary(tx))
    assert f"ERC-20 transfer: send {ADDR2} 1.5 BRS" in text
    assert "value:         0 ether" in text
    send_signed(rpc, sign_transaction(tx, KEY0))
    assert int.from_bytes(rpc.eth_call(TOKEN, bytes.fromhex("70a08231") + encode(["address"], [ADDR2])), "big") \
        == 15 * 10**17


def test_approve_is_decoded_and_other_calldata_shown_as_raw() -> None:
    approve = encode_call("approve(address,uint256)", [ADDR1, "7"])
    assert decode_token_call(approve).method == "approve"  # type: ignore[union-attr]
    assert decode_token_call(encode_call("foo(uint256)", ["1"])) is None
    assert decode_token_call(ERC20_TRANSFER + b"\x01" * 63) is None


def test_a_token_call_with_trailing_bytes_is_shown_as_the_token_reads_it() -> None:
    from wallet.calldata import trailing_bytes
    data = encode_call("transfer(address,uint256)", [ADDR1, "7"]) + b"\x00"
    call = decode_token_call(data)
    assert call is not None and (call.recipient, call.amount) == (ADDR1, 7) and trailing_bytes(data) == 1
    dirty = bytearray(encode_call("transfer(address,uint256)", [ADDR1, "7"]))
    dirty[5] = 1
    assert decode_token_call(bytes(dirty)) is None


def test_encode_call_rejects_wrong_arguments() -> None:
    with pytest.raises(WalletError, match="takes 2"):
        encode_call("transfer(address,uint256)", [ADDR1])
    with pytest.raises(WalletError, match="not an address"):
        encode_call("transfer(address,uint256)", ["bob", "1"])
    with pytest.raises(WalletError, match="not a function signature"):
        encode_call("transfer", [])


def test_unsigned_and_signed_files_round_trip(tmp_path: Path, rpc: Rpc) -> None:
    tx = build_transaction(rpc, ADDR0, ADDR1, 5)
    write_unsigned(tmp_path / "tx.json", tx)
    assert read_unsigned(tmp_path / "tx.json") == tx
    signed = sign_transaction(tx, KEY0)
    write_signed(tmp_path / "signed.json", signed)
    assert read_signed(tmp_path / "signed.json") == signed


def test_edited_or_foreign_transaction_files_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "tx.json"
    path.write_text("{not json")
    with pytest.raises(TransactionFileError, match="not JSON"):
        read_unsigned(path)
    path.write_text(json.dumps({"kind": "something-else"}))
    with pytest.raises(TransactionFileError, match="kind"):
        read_unsigned(path)
    path.write_text(json.dumps({"kind": "bourse/unsigned-transaction", "transaction": {"chain_id": 1}}))
    with pytest.raises(TransactionFileError, match="missing"):
        read_unsigned(path)


def test_signed_transaction_for_another_chain_is_not_broadcast(rpc: Rpc) -> None:
    tx = build_transaction(rpc, ADDR0, ADDR1, 5)
    from dataclasses import replace
    signed = sign_transaction(replace(tx, chain_id=1), KEY0)
    with pytest.raises(WalletError, match="chain 1"):
        send_signed(rpc, signed)


def test_node_errors_are_reported_with_method_and_message(rpc: Rpc) -> None:
    tx = build_transaction(rpc, ADDR0, ADDR1, 5, nonce=0)
    send_signed(rpc, sign_transaction(tx, KEY0))
    with pytest.raises(RpcError, match="eth_sendRawTransaction: already known"):
        send_signed(rpc, sign_transaction(tx, KEY0))
    stale = build_transaction(rpc, ADDR0, ADDR1, 6, nonce=0)
    with pytest.raises(RpcError, match="eth_sendRawTransaction: .*nonce"):
        send_signed(rpc, sign_transaction(stale, KEY0))
    with pytest.raises(RpcError, match="cannot reach"):
        Rpc("http://127.0.0.1:9").chain_id()


def _offline(*args: str) -> subprocess.CompletedProcess[str]:
    child = Path(__file__).with_name("offline_child.py")
    root = Path(__file__).resolve().parents[2]
    return subprocess.run([sys.executable, str(child), *args], capture_output=True, text=True, timeout=120,
                          cwd=root, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)})


def test_tx_sign_opens_no_network_connection(tmp_path: Path, rpc: Rpc, store: KeyStore) -> None:
    store.add_key("cold", KEY0, PASSWORD)
    (tmp_path / "pw").write_text(PASSWORD)
    write_unsigned(tmp_path / "tx.json", build_transaction(rpc, ADDR0, ADDR1, 777))
    result = _offline("wallet", "tx", "sign", str(tmp_path / "tx.json"), "--account", "cold", "--out",
                      str(tmp_path / "signed.json"), "--yes", "--keystore", str(store.directory),
                      "--password-file", str(tmp_path / "pw"))
    assert result.returncode == 0, result.stderr
    assert "NETWORK" not in result.stderr
    before = rpc.balance(ADDR1)
    send_signed(rpc, read_signed(tmp_path / "signed.json"))
    assert rpc.balance(ADDR1) == before + 777


def test_the_offline_guard_does_catch_a_command_that_uses_the_network(tmp_path: Path, rpc: Rpc,
                                                                      node_url: str) -> None:
    write_signed(tmp_path / "signed.json", sign_transaction(build_transaction(rpc, ADDR0, ADDR1, 1), KEY0))
    result = _offline("wallet", "tx", "send", str(tmp_path / "signed.json"), "--rpc-url", node_url)
    assert result.returncode == 97 and "NETWORK ATTEMPTED" in result.stderr
