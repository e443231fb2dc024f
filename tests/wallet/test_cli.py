"""`bourse wallet|signer|por` through click's runner, and one run of the real processes end to end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bourse.cli import main
from contracts.predeploy import address_of
from tests.tools import free_port, wait_for_rpc
from wallet.rpc import Rpc

from .conftest import ADDR0, ADDR1, ADDR2, KEY0, KEY1, KEY2, PASSWORD, vector

ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
TOKEN = address_of("PlatformToken")


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BOURSE_KEYSTORE", str(tmp_path / "keystore"))
    monkeypatch.setenv("BOURSE_PASSWORD", PASSWORD)
    runner = CliRunner()

    def run(*args: str, input: str | None = None, code: int = 0) -> Result:
        result = runner.invoke(main, list(args), input=input, catch_exceptions=False)
        assert result.exit_code == code, (result.output, result.stderr)
        return result
    return run


def _import(cli, alias: str, key: bytes) -> None:  # type: ignore[no-untyped-def]
    cli("wallet", "import", alias, "--private-key", "--light", input="0x" + key.hex() + "\n")


def test_new_list_address_and_json_output(cli) -> None:  # type: ignore[no-untyped-def]
    created = json.loads(cli("wallet", "new", "alice", "--light", "--json").stdout)
    listed = cli("wallet", "list").stdout
    assert created["alias"] == "alice" and created["address"] in listed
    assert cli("wallet", "address", "alice").stdout.strip() == created["address"]
    assert json.loads(cli("wallet", "list", "--json").stdout)[0]["address"] == created["address"]


def test_new_mnemonic_shows_the_words_once_on_stderr(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("wallet", "new", "hd", "--mnemonic", "--words", "24", "--light")
    words = [line for line in result.stderr.splitlines() if line.startswith("  ")][0].split()
    assert len(words) == 24 and " ".join(words) not in result.stdout


def test_import_key_and_mnemonic_account_from_stdin(cli) -> None:  # type: ignore[no-untyped-def]
    _import(cli, "k0", KEY0)
    cli("wallet", "import", "m1", "--mnemonic", "--index", "1", "--light", input=ANVIL_MNEMONIC + "\n")
    assert cli("wallet", "address", "k0").stdout.strip() == ADDR0
    assert cli("wallet", "address", "m1").stdout.strip() == ADDR1


def test_import_needs_exactly_one_source_and_bad_keys_fail_in_one_line(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("wallet", "import", "x", code=1)
    assert result.stderr.count("\n") == 1 and "exactly one" in result.stderr
    result = cli("wallet", "import", "x", "--private-key", input="0x1234\n", code=1)
    assert result.stderr.startswith("error: a private key is 32 bytes")


def test_export_requires_the_explicit_flag_and_warns(cli) -> None:  # type: ignore[no-untyped-def]
    _import(cli, "k0", KEY0)
    refused = cli("wallet", "export", "k0", code=1)
    assert KEY0.hex() not in refused.output and "--show-private-key" in refused.stderr
    shown = cli("wallet", "export", "k0", "--show-private-key")
    assert shown.stdout.strip() == "0x" + KEY0.hex() and "WARNING" in shown.stderr


def test_wrong_password_is_one_line_naming_the_alias(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    _import(cli, "k0", KEY0)
    monkeypatch.setenv("BOURSE_PASSWORD", "nope")
    result = cli("wallet", "export", "k0", "--show-private-key", code=1)
    assert result.stderr == "error: wrong password for k0\n"


def test_password_file_wins_and_change_password_works(cli, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _import(cli, "k0", KEY0)
    (tmp_path / "new").write_text("second password\n")
    cli("wallet", "change-password", "k0", "--new-password-file", str(tmp_path / "new"))
    monkeypatch.delenv("BOURSE_PASSWORD")
    cli("wallet", "export", "k0", "--show-private-key", "--password-file", str(tmp_path / "new"))
    result = cli("wallet", "export", "k0", "--show-private-key", code=1)
    assert "no password" in result.stderr


def test_remove_asks_and_does_nothing_without_a_yes(cli) -> None:  # type: ignore[no-untyped-def]
    _import(cli, "k0", KEY0)
    cli("wallet", "remove", "k0", input="n\n", code=1)
    assert "k0" in cli("wallet", "list").stdout
    cli("wallet", "remove", "k0", input="y\n")
    assert "k0" not in cli("wallet", "list").stdout
    result = cli("wallet", "address", "k0", code=1)
    assert "no account named 'k0'" in result.stderr


def test_derive_lists_the_anvil_accounts(cli) -> None:  # type: ignore[no-untyped-def]
    rows = json.loads(cli("wallet", "derive", "--count", "3", "--json", input=ANVIL_MNEMONIC + "\n").stdout)
    assert [r["address"] for r in rows] == [ADDR0, ADDR1, ADDR2]
    assert rows[2]["path"] == "m/44'/60'/0'/0/2"


def test_sign_message_and_typed_data_then_verify(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _import(cli, "k0", KEY0)
    signature = cli("wallet", "sign-message", "k0", "hello").stdout.strip()
    assert "matches" in cli("wallet", "verify", "--address", ADDR0, "--signature", signature,
                            "--message", "hello").stdout
    result = cli("wallet", "verify", "--address", ADDR1, "--signature", signature, "--message", "hello", code=1)
    assert "does NOT match" in result.stdout
    typed = tmp_path / "mail.json"
    typed.write_text(json.dumps(vector("eip712_mail_example.json")["typedData"]))
    signature = cli("wallet", "sign-typed-data", "k0", str(typed)).stdout.strip()
    verdict = json.loads(cli("wallet", "verify", "--address", ADDR0, "--signature", signature, "--typed-data",
                             str(typed), "--json").stdout)
    assert verdict == {"recovered": ADDR0, "matches": True}


def test_send_transfer_and_contract_call_print_receipts(cli, node_url: str, rpc: Rpc) -> None:  # type: ignore[no-untyped-def]
    _import(cli, "k0", KEY0)
    receipt = json.loads(cli("wallet", "send", "k0", "--to", ADDR1, "--value", "0.5ether", "--rpc-url", node_url,
                             "--json").stdout)
    assert receipt["status"] == "0x1"
    line = cli("wallet", "send", "k0", "--to", TOKEN, "--sig", "transfer(address,uint256)", ADDR2, "42",
               "--rpc-url", node_url).stdout
    assert "status success" in line
    balance = rpc.eth_call(TOKEN, bytes.fromhex("70a08231") + bytes(12) + bytes.fromhex(ADDR2[2:]))
    assert int.from_bytes(balance, "big") == 42


def test_send_that_would_revert_reports_the_reason_and_sends_nothing(cli, node_url: str,  # type: ignore[no-untyped-def]
                                                                    rpc: Rpc) -> None:
    _import(cli, "k1", KEY1)
    nonce = rpc.nonce(ADDR1)
    result = cli("wallet", "send", "k1", "--to", TOKEN, "--sig", "transfer(address,uint256)", ADDR2, "1",
                 "--rpc-url", node_url, code=1)
    assert "execution reverted" in result.stderr and rpc.nonce(ADDR1) == nonce


def test_cold_flow_build_sign_send(cli, tmp_path: Path, node_url: str, rpc: Rpc) -> None:  # type: ignore[no-untyped-def]
    _import(cli, "cold", KEY0)
    built = cli("wallet", "tx", "build", "--from", "cold", "--to", TOKEN, "--sig", "transfer(address,uint256)",
                ADDR2, "2500000000000000000", "--out", str(tmp_path / "tx.json"), "--rpc-url", node_url).stdout
    assert "ERC-20 transfer: send" in built and "2.5 BRS" in built
    declined = cli("wallet", "tx", "sign", str(tmp_path / "tx.json"), "--account", "cold", "--out",
                   str(tmp_path / "s.json"), input="n\n", code=1)
    assert "2.5 BRS" in declined.stderr and not (tmp_path / "s.json").exists()
    cli("wallet", "tx", "sign", str(tmp_path / "tx.json"), "--account", "cold", "--out", str(tmp_path / "s.json"),
        input="y\n")
    assert "status success" in cli("wallet", "tx", "send", str(tmp_path / "s.json"), "--rpc-url", node_url).stdout


def test_shamir_backup_and_restore_into_the_keystore(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _import(cli, "k0", KEY0)
    shares = json.loads(cli("wallet", "backup", "shamir", "--account", "k0", "-m", "2", "-n", "3", "--json").stdout)
    restored = cli("wallet", "backup", "restore", "--show", "--import", "copy", "--keystore",
                   str(tmp_path / "other"), input="\n".join(shares[::2]) + "\n")
    assert ADDR0 in restored.stdout and "0x" + KEY0.hex() in restored.stdout
    result = cli("wallet", "backup", "restore", input=shares[0] + "\n", code=1)
    assert "do not combine" in result.stderr
    mnemonic_shares = json.loads(cli("wallet", "backup", "shamir", "--mnemonic", "-m", "2", "-n", "2", "--json",
                                     input=ANVIL_MNEMONIC + "\n").stdout)
    again = cli("wallet", "backup", "restore", "--kind", "mnemonic", "--show", input="\n".join(mnemonic_shares))
    assert ANVIL_MNEMONIC in again.stdout and ADDR0 in again.stdout
    assert "offline" in cli("wallet", "backup", "--help").stdout.lower()


def test_vault_propose_sign_execute_status(cli, tmp_path: Path, node_url: str, rpc: Rpc) -> None:  # type: ignore[no-untyped-def]
    from web3 import Web3

    from contracts.deploy import deploy
    w3 = Web3(Web3.HTTPProvider(node_url))
    vault = deploy(w3, "MultisigVault", sorted([ADDR1, ADDR2], key=lambda a: int(a, 16)), 2).address
    w3.eth.send_transaction({"from": ADDR0, "to": vault, "value": 10**18})
    for alias, key in (("o1", KEY1), ("o2", KEY2), ("payer", KEY0)):
        _import(cli, alias, key)
    proposal = str(tmp_path / "p.json")
    cli("wallet", "vault", "propose", vault, "--to", "0x000000000000000000000000000000000000dEaD", "--value", "0.25",
        "--out", proposal, "--rpc-url", node_url)
    cli("wallet", "vault", "sign", proposal, "--account", "o1")
    result = cli("wallet", "vault", "execute", proposal, "--account", "payer", "--rpc-url", node_url, code=1)
    assert "1 valid owner signature(s), the vault needs 2" in result.stderr
    cli("wallet", "vault", "sign", proposal, "--account", "o2")
    status = json.loads(cli("wallet", "vault", "status", vault, "--proposal", proposal, "--rpc-url", node_url,
                            "--json").stdout)
    assert status["proposal"]["ready"] is True and status["threshold"] == 2
    cli("wallet", "vault", "execute", proposal, "--account", "payer", "--rpc-url", node_url)
    assert rpc.balance("0x000000000000000000000000000000000000dEaD") == 25 * 10**16


def test_por_build_verify_and_assets(cli, tmp_path: Path, node_url: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "l.csv").write_text(f"account,asset,amount\nalice,BRS,100\nbob,BRS,50\nbob,native,{10**18}\n")
    root = json.loads(cli("por", "build", str(tmp_path / "l.csv"), "--out", str(tmp_path / "por"), "--json").stdout)
    assert root["totals"] == {"BRS": "150", "native": str(10**18)}
    ok = cli("por", "verify", "--root", str(tmp_path / "por/root.json"), "--proof", str(tmp_path / "por/proofs/bob.json"))
    assert "valid: bob" in ok.stdout
    covered = cli("por", "assets", "--root", str(tmp_path / "por/root.json"), "--holder", ADDR0,
                  "--asset", f"BRS={TOKEN}", "--rpc-url", node_url)
    assert "SHORT" not in covered.stdout
    short = cli("por", "assets", "--root", str(tmp_path / "por/root.json"), "--holder", ADDR2,
                "--asset", f"BRS={TOKEN}", "--rpc-url", node_url, code=1)
    assert "SHORT by 150" in short.stdout
    (tmp_path / "bad.csv").write_text("account,asset,amount\nalice,BRS,-1\n")
    assert "negative" in cli("por", "build", str(tmp_path / "bad.csv"), "--out", str(tmp_path / "x"), code=1).stderr


def test_sweep_dry_run_prints_the_plan_and_sends_nothing(cli, node_url: str, rpc: Rpc) -> None:  # type: ignore[no-untyped-def]
    cold = "0x000000000000000000000000000000000000C01D"
    out = json.loads(cli("wallet", "sweep", "--hot", ADDR1, "--cold", cold, "--native", "9000:100", "--token",
                         f"{TOKEN}:10:5", "--rpc-url", node_url, "--json").stdout)
    assert out["executed"] is False and out["transfers"][0]["from"] == ADDR1
    assert out["refills"] == [{"address": ADDR1, "asset": TOKEN, "balance": "0", "needed": "10"}]
    assert rpc.balance(cold) == 0
    assert "needs --signer" in cli("wallet", "sweep", "--hot", ADDR1, "--cold", cold, "--native", "9000:100",
                                   "--execute", "--rpc-url", node_url, code=1).stderr


def test_signer_and_sweep_as_real_processes(tmp_path: Path, node_url: str, rpc: Rpc) -> None:
    """`bourse signer run` in its own process; `bourse wallet sweep --execute` signs through it; SIGTERM stops it."""
    env = {**os.environ, "BOURSE_KEYSTORE": str(tmp_path / "ks"), "BOURSE_PASSWORD": PASSWORD}
    bourse = [sys.executable, "-m", "bourse.cli"]
    subprocess.run([*bourse, "wallet", "import", "hot", "--private-key", "--light"], input="0x" + KEY1.hex(),
                   text=True, env=env, check=True, capture_output=True)
    cold = "0x000000000000000000000000000000000000C01D"
    (tmp_path / "policy.toml").write_text(f'[keys.hot]\nallowlist = ["{cold}"]\nmax_value_per_tx = '
                                          f'{{ native = "2000 ether" }}\n')
    port = free_port()
    proc = subprocess.Popen([*bourse, "signer", "run", "--account", "hot", "--policy", str(tmp_path / "policy.toml"),
                             "--port", str(port), "--token-file", str(tmp_path / "token"), "--audit-log",
                             str(tmp_path / "audit.jsonl")], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for_rpc(f"http://127.0.0.1:{port}", timeout=60)  # any HTTP answer (401 here) means it is up
        sweep = [*bourse, "wallet", "sweep", "--hot", ADDR1, "--cold", cold, "--native", "7000:10", "--execute",
                 "--signer", f"http://127.0.0.1:{port}", "--signer-token-file", str(tmp_path / "token"),
                 "--rpc-url", node_url]
        refused = subprocess.run(sweep, env=env, capture_output=True, text=True)
        assert refused.returncode == 1 and "max_value_per_tx" in refused.stderr
        sweep[sweep.index("7000:10")] = "9000:10"
        done = subprocess.run(sweep, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert 999 * 10**18 < rpc.balance(cold) < 1000 * 10**18
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    verified = subprocess.run([*bourse, "signer", "audit", "verify", str(tmp_path / "audit.jsonl")],
                              capture_output=True, text=True)
    assert verified.returncode == 0 and verified.stdout.startswith("ok: 2 entries")


def test_json_output_on_every_command_that_prints_a_result(cli, tmp_path: Path, node_url: str) -> None:  # type: ignore[no-untyped-def]
    _import(cli, "k0", KEY0)
    assert json.loads(cli("wallet", "address", "k0", "--json").stdout)["address"] == ADDR0
    signed = json.loads(cli("wallet", "sign-message", "k0", "hello", "--json").stdout)
    assert signed["address"] == ADDR0 and signed["signature"].startswith("0x")
    typed = tmp_path / "mail.json"
    typed.write_text(json.dumps(vector("eip712_mail_example.json")["typedData"]))
    typed_signed = json.loads(cli("wallet", "sign-typed-data", "k0", str(typed), "--json").stdout)
    assert typed_signed["digest"] == vector("eip712_mail_example.json")["expected"]["signHash_digest"]
    built = json.loads(cli("wallet", "tx", "build", "--from", "k0", "--to", ADDR1, "--value", "1wei", "--out",
                           str(tmp_path / "tx.json"), "--rpc-url", node_url, "--json").stdout)
    assert built["transaction"]["to"] == ADDR1 and built["file"] == str(tmp_path / "tx.json") and built["summary"]
    signed_tx = json.loads(cli("wallet", "tx", "sign", str(tmp_path / "tx.json"), "--account", "k0", "--yes",
                               "--out", str(tmp_path / "s.json"), "--json").stdout)
    assert signed_tx["from"] == ADDR0 and signed_tx["hash"].startswith("0x")
    (tmp_path / "new").write_text("second password\n")
    changed = json.loads(cli("wallet", "change-password", "k0", "--new-password-file", str(tmp_path / "new"),
                             "--json").stdout)
    assert changed["changed"] is True and changed["address"] == ADDR0
    removed = json.loads(cli("wallet", "remove", "k0", "--yes", "--json").stdout)
    assert removed["removed"] is True and removed["address"] == ADDR0


def test_balance_shows_native_and_token_balances_with_raw_values(cli, node_url: str, rpc: Rpc) -> None:  # type: ignore[no-untyped-def]
    _import(cli, "k0", KEY0)
    out = json.loads(cli("wallet", "balance", "k0", "--token", TOKEN, "--rpc-url", node_url, "--json").stdout)
    native, token = out["balances"]
    assert out["address"] == ADDR0 and native["raw"] == str(rpc.balance(ADDR0)) and native["decimals"] == 18
    assert token["symbol"] == "BRS" and token["token"] == TOKEN and int(token["raw"]) > 0
    human = cli("wallet", "balance", ADDR1, "--rpc-url", node_url).stdout
    assert "native" in human and str(rpc.balance(ADDR1)) in human


def test_restore_accepts_the_share_lines_shamir_prints(cli) -> None:  # type: ignore[no-untyped-def]
    _import(cli, "k0", KEY0)
    printed = cli("wallet", "backup", "shamir", "--account", "k0", "-m", "2", "-n", "3").stdout
    lines = [line for line in printed.splitlines() if line.startswith("share ")]
    assert len(lines) == 3
    restored = json.loads(cli("wallet", "backup", "restore", "--json", input="\n".join(lines[1:]) + "\n").stdout)
    assert restored["address"] == ADDR0


def test_a_second_signer_on_the_same_audit_log_is_refused(tmp_path: Path) -> None:
    from wallet.errors import WalletError
    from wallet.files import ExclusiveLock
    first = ExclusiveLock(tmp_path / "audit.jsonl.lock", "the audit log")
    with pytest.raises(WalletError, match=r"in use by another process \(pid \d+\)"):
        ExclusiveLock(tmp_path / "audit.jsonl.lock", "the audit log")
    first.release()
    ExclusiveLock(tmp_path / "audit.jsonl.lock", "the audit log").release()
