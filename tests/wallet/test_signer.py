from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from web3 import Web3

from tests.tools import running_anvil, tool
from wallet.audit import AuditLog, verify
from wallet.calldata import encode_call
from wallet.errors import AuditLogError, SignerError
from wallet.policy import KeyPolicy
from wallet.rpc import Rpc
from wallet.signer import HotSigner
from wallet.signer_client import SignerClient
from wallet.signer_server import SignerServer, load_or_create_token
from wallet.transactions import build_transaction

from .conftest import ADDR0, ADDR1, ADDR2, KEY0, vector

ETHER = 10**18
VAULT = "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"  # the EIP-712 Mail example's verifying contract
GAS, FEE_PER_GAS = 100_000, 5 * 10**9
FEE = GAS * FEE_PER_GAS  # the most a test transaction can pay in gas: counted with its value
POLICY = {"max_value_per_tx": {"native": ETHER + FEE}, "daily_limit": {"native": 2 * (ETHER + FEE)},
          "allowlist": [ADDR1], "allowed_methods": ["transfer(address,uint256)"], "max_tx_per_minute": 50,
          "typed_data_contracts": [VAULT], "typed_data_types": ["Mail"]}


def make_signer(tmp_path: Path, clock: list[int] | None = None) -> HotSigner:
    now = clock if clock is not None else [1_000_000]
    return HotSigner({"operator": KEY0}, {ADDR0: KeyPolicy.parse("operator", POLICY)},
                     AuditLog(tmp_path / "audit.jsonl"), clock=lambda: now[0])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[SignerClient]:
    server = SignerServer(make_signer(tmp_path), "t" * 32, port=0).start()
    yield SignerClient(server.url, "t" * 32)
    server.stop()


def _tx(rpc: Rpc, to: str, value: int, data: bytes = b"") -> dict[str, object]:
    tx = build_transaction(rpc, ADDR0, to, value, data, gas=GAS).as_eth_account()
    return {**tx, "maxFeePerGas": FEE_PER_GAS, "maxPriorityFeePerGas": 10**9}


def exercise(rpc: Rpc, client: SignerClient, audit_path: Path) -> None:
    """Within policy: signed and mined. Out of policy: refused with the rule. The audit log verifies."""
    account = client.account(ADDR0)
    before = rpc.balance(ADDR1)
    signed = account.sign_transaction(_tx(rpc, ADDR1, ETHER))
    tx_hash = rpc.send_raw(signed.raw_transaction)
    assert tx_hash == "0x" + signed.hash.hex()
    assert rpc.wait_for_receipt(tx_hash)["status"] == "0x1"
    assert rpc.balance(ADDR1) == before + ETHER
    for tx, rule in [(_tx(rpc, ADDR1, ETHER + 1), "max_value_per_tx"), (_tx(rpc, ADDR2, 1), "allowlist"),
                     (_tx(rpc, ADDR1, 0, encode_call("approve(address,uint256)", [ADDR1, "1"])), "allowed_methods")]:
        with pytest.raises(SignerError) as info:
            account.sign_transaction(tx)
        assert info.value.rule == rule and info.value.code == -32001
    assert verify(audit_path).seq == 4


def test_account_list_and_version(served: SignerClient) -> None:
    assert served.accounts() == [ADDR0]
    assert served.call("account_version").startswith("6.")


def test_signer_on_bourse_node_signs_within_policy_and_refuses_the_rest(served: SignerClient, rpc: Rpc,
                                                                        tmp_path: Path) -> None:
    exercise(rpc, served, tmp_path / "audit.jsonl")


@pytest.mark.external
@pytest.mark.skipif(tool("anvil") is None, reason="anvil not installed (.ci/run installs it from npm)")
def test_signer_on_anvil_signs_within_policy_and_refuses_the_rest(served: SignerClient, tmp_path: Path) -> None:
    with running_anvil() as url:
        exercise(Rpc(url), served, tmp_path / "audit.jsonl")


def test_web3_sends_what_the_remote_account_signs(served: SignerClient, node_url: str) -> None:
    w3 = Web3(Web3.HTTPProvider(node_url))
    account = served.account(ADDR0)
    tx = {"to": ADDR1, "value": 5, "gas": 21_000, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9,
          "nonce": w3.eth.get_transaction_count(ADDR0), "chainId": w3.eth.chain_id}
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction))
    assert receipt["status"] == 1 and receipt["from"] == ADDR0


def test_the_daily_limit_survives_a_restart_of_the_signer(tmp_path: Path, rpc: Rpc) -> None:
    signer = make_signer(tmp_path)
    for _ in range(2):
        signer.handle("account_signTransaction", [_clef(_tx(rpc, ADDR1, ETHER))])
    restarted = make_signer(tmp_path)
    with pytest.raises(SignerError) as info:
        restarted.handle("account_signTransaction", [_clef(_tx(rpc, ADDR1, 1))])
    assert info.value.rule == "daily_limit"
    later = make_signer(tmp_path, clock=[1_000_000 + 86_400])
    later.handle("account_signTransaction", [_clef(_tx(rpc, ADDR1, ETHER))])


def test_refusals_are_logged_with_their_rule_and_change_no_counter(tmp_path: Path, rpc: Rpc) -> None:
    signer = make_signer(tmp_path)
    with pytest.raises(SignerError):
        signer.handle("account_signTransaction", [_clef(_tx(rpc, ADDR1, 2 * ETHER))])
    signer.handle("account_signTransaction", [_clef(_tx(rpc, ADDR1, ETHER))])
    signer.handle("account_signTransaction", [_clef(_tx(rpc, ADDR1, ETHER))])  # the refusal used none of the 2 ether
    entries = list(signer.audit.entries())
    assert [(e["decision"], e.get("rule")) for e in entries] == [("refused", "max_value_per_tx"),
                                                                 ("approved", None), ("approved", None)]
    assert entries[1]["tx_hash"] and entries[1]["spend"] == [["native", ETHER + FEE]]


def test_typed_data_is_signed_only_for_allowed_contracts(tmp_path: Path) -> None:
    signer = make_signer(tmp_path)
    mail = vector("eip712_mail_example.json")["typedData"]
    from wallet.signing import recover_typed_data
    assert recover_typed_data(mail, signer.handle("account_signTypedData", [ADDR0, mail])) == ADDR0
    other = {**mail, "domain": {**mail["domain"], "verifyingContract": ADDR2}}
    with pytest.raises(SignerError) as info:
        signer.handle("account_signTypedData", [ADDR0, other])
    assert info.value.rule == "typed_data_contracts"


def test_unknown_accounts_methods_and_malformed_requests_get_coded_errors(tmp_path: Path) -> None:
    signer = make_signer(tmp_path)
    cases = [("account_signTransaction", [{"from": ADDR1, "gas": "0x1", "nonce": "0x0", "chainId": "0x1",
                                           "gasPrice": "0x1"}], -32602, "not an account"),
             ("account_signTransaction", [{"from": ADDR0, "nonce": "0x0"}], -32602, "missing"),
             ("account_signTransaction", [{"from": ADDR0, "gas": "zz", "nonce": "0x0", "chainId": "0x1",
                                           "gasPrice": "0x1"}], -32602, "hex quantity"),
             ("account_signTransaction", ["nope"], -32602, "one transaction object"),
             ("account_signData", [], -32601, "no method")]
    for method, params, code, message in cases:
        with pytest.raises(SignerError, match=message) as info:
            signer.handle(method, params)
        assert info.value.code == code
    assert signer.audit.head.seq == 0  # malformed requests never reach the policy or the log


def test_a_key_without_a_policy_signs_nothing(tmp_path: Path, rpc: Rpc) -> None:
    signer = HotSigner({"k": KEY0}, {}, AuditLog(tmp_path / "audit.jsonl"))
    with pytest.raises(SignerError) as info:
        signer.handle("account_signTransaction", [_clef(_tx(rpc, ADDR1, 1))])
    assert info.value.rule == "no_policy"


def test_wrong_or_missing_bearer_token_is_refused(served: SignerClient) -> None:
    with pytest.raises(SignerError, match="bearer token") as info:
        SignerClient(served.url, "wrong").accounts()
    assert info.value.code == 401
    with pytest.raises(SignerError, match="bearer token"):
        SignerClient(served.url, "").accounts()


def test_signer_serves_on_a_unix_socket_created_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    monkeypatch.setattr(os, "chmod", lambda *args, **kwargs: None)  # private from creation, not chmod-ed after
    server = SignerServer(make_signer(tmp_path), "s" * 32, unix_socket=tmp_path / "signer.sock").start()
    try:
        assert (tmp_path / "signer.sock").stat().st_mode & 0o777 == 0o600
        assert SignerClient(server.url, "s" * 32).accounts() == [ADDR0]
    finally:
        server.stop()


def test_tampered_audit_log_fails_verification(served: SignerClient, rpc: Rpc, tmp_path: Path) -> None:
    served.account(ADDR0).sign_transaction(_tx(rpc, ADDR1, 1))
    with pytest.raises(SignerError):
        served.account(ADDR0).sign_transaction(_tx(rpc, ADDR2, 1))
    log = tmp_path / "audit.jsonl"
    verify(log)
    log.write_text(log.read_text().replace('"decision":"refused"', '"decision":"approved"'))
    with pytest.raises(AuditLogError, match="edited"):
        verify(log)


def test_token_file_is_created_private_and_reused(tmp_path: Path) -> None:
    token = load_or_create_token(tmp_path / "token")
    assert (tmp_path / "token").stat().st_mode & 0o777 == 0o600
    assert load_or_create_token(tmp_path / "token") == token and len(token) >= 32


def _clef(tx: dict[str, object]) -> dict[str, object]:
    from wallet.signer_client import _clef_tx
    return _clef_tx({**tx, "from": ADDR0})
