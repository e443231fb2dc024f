"""Every command, given what a new user gets wrong: one line on stderr, a non-zero exit, no traceback, and
nothing written half-way. Also: every option has help text."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from bourse.cli import main

UNWRITABLE = "/sys/bourse-cannot-create-this"  # refused even for root (sysfs), unlike a chmod-ed folder
NOT_A_NODE = "http://127.0.0.1:9"  # the discard port: nothing listens there
ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


@pytest.fixture
def busy_port() -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "not.json").write_text("{not json")
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "bad.csv").write_text("account,asset,amount\nalice,BRS,-5\n")
    (tmp_path / "policy.toml").write_text("[keys.x\n")
    (tmp_path / "token").write_text("t" * 32)
    (tmp_path / "markets.toml").write_text("[[market]]\nsymbol = 1\n")
    (tmp_path / "audit.jsonl").write_text('{"seq": 2}\n')
    return {name: str(tmp_path / name) for name in ("not.json", "list.json", "bad.csv", "policy.toml", "token",
                                                    "markets.toml", "audit.jsonl")}


def cases(files: dict[str, str], busy: int, tmp: Path) -> list[tuple[list[str], str]]:
    """(arguments, stdin) of a wrong use of every command."""
    keystore = ["--keystore", str(tmp / "ks")]
    return [
        (["node", "--port", "70000"], ""),
        (["node", "--port", str(busy), "--data-dir", str(tmp / "node")], ""),
        (["node", "--mnemonic", "these are not twelve valid words at all"], ""),
        (["node", "--data-dir", UNWRITABLE], ""),
        (["wallet", "new", "a", "--light", "--keystore", UNWRITABLE], ""),
        (["wallet", "import", "a", "--mnemonic", "--light", *keystore], "not a mnemonic\n"),
        (["wallet", "import", "a", "--private-key", "--light", *keystore], "0xzz\n"),
        (["wallet", "list", "--keystore", files["token"]], ""),
        (["wallet", "address", "nobody", *keystore], ""),
        (["wallet", "export", "nobody", *keystore], ""),
        (["wallet", "change-password", "nobody", *keystore], ""),
        (["wallet", "remove", "nobody", "--yes", *keystore], ""),
        (["wallet", "derive"], "one two three\n"),
        (["wallet", "sign-message", "nobody", "hi", *keystore], ""),
        (["wallet", "sign-typed-data", "nobody", files["not.json"], *keystore], ""),
        (["wallet", "verify", "--address", ADDRESS, "--signature", "0x12", "--message", "hi"], ""),
        (["wallet", "balance", ADDRESS, "--rpc-url", "not a url"], ""),
        (["wallet", "balance", ADDRESS, "--rpc-url", NOT_A_NODE], ""),
        (["wallet", "send", "nobody", "--to", ADDRESS, *keystore], ""),
        (["wallet", "tx", "build", "--from", ADDRESS, "--to", "0xnope", "--out", str(tmp / "tx.json"),
          "--rpc-url", NOT_A_NODE], ""),
        (["wallet", "tx", "sign", files["not.json"], "--account", "a", "--out", str(tmp / "s.json")], ""),
        (["wallet", "tx", "send", files["list.json"], "--rpc-url", NOT_A_NODE], ""),
        (["wallet", "backup", "shamir", "--mnemonic", "-m", "3", "-n", "2"], "x\n"),
        (["wallet", "backup", "restore"], "share 1: not a share\n"),
        (["wallet", "vault", "propose", "0xZZ", "--to", ADDRESS, "--out", str(tmp / "p.json"),
          "--rpc-url", NOT_A_NODE], ""),
        (["wallet", "vault", "sign", files["not.json"], "--account", "a", *keystore], ""),
        (["wallet", "vault", "execute", files["list.json"], "--account", "a", *keystore], ""),
        (["wallet", "vault", "status", "not-hex", "--rpc-url", NOT_A_NODE], ""),
        (["wallet", "sweep", "--hot", "nope", "--cold", ADDRESS, "--rpc-url", NOT_A_NODE], ""),
        (["signer", "run", "--account", "a", "--policy", files["policy.toml"], "--token-file", files["token"],
          "--audit-log", str(tmp / "audit.jsonl"), *keystore], ""),
        (["signer", "audit", "verify", files["audit.jsonl"]], ""),
        (["por", "build", files["bad.csv"], "--out", str(tmp / "por")], ""),
        (["por", "verify", "--root", files["not.json"], "--proof", files["not.json"]], ""),
        (["por", "assets", "--root", files["list.json"], "--holder", ADDRESS, "--rpc-url", NOT_A_NODE], ""),
        (["exchange", "--settlement", ADDRESS, "--markets", files["markets.toml"], "--signer", NOT_A_NODE,
          "--signer-token-file", files["token"], "--data-dir", str(tmp / "ex"), "--rpc-url", NOT_A_NODE], ""),
        (["exchange", "--settlement", ADDRESS, "--markets", files["markets.toml"], "--signer", NOT_A_NODE,
          "--signer-token-file", files["token"], "--data-dir", str(tmp / "ex"), "--port", "70000"], ""),
        (["exchange", "--settlement", ADDRESS, "--markets", files["markets.toml"], "--signer", NOT_A_NODE,
          "--signer-token-file", files["token"], "--data-dir", str(tmp / "ex"), "--listing-vote", "0x12"], ""),
        (["exchange", "--settlement", ADDRESS, "--markets", files["markets.toml"], "--signer", NOT_A_NODE,
          "--signer-token-file", files["token"], "--data-dir", str(tmp / "ex"), "--distributor", ADDRESS,
          "--reward-per-epoch", "many", "--rpc-url", NOT_A_NODE], ""),
        (["up", "--batch-interval", "0"], ""),
        (["up", "--port", str(busy), "--data-dir", str(tmp / "up")], ""),
        (["up", "--data-dir", UNWRITABLE], ""),
        (["reconcile", "--exchange", NOT_A_NODE, "--rpc-url", NOT_A_NODE], ""),
        (["reconcile", "--exchange", NOT_A_NODE, "--admin-token-file", files["token"], "--rpc-url", NOT_A_NODE], ""),
        (["api-key", "create", "nobody", "--exchange", NOT_A_NODE, *keystore], ""),
        (["api-key", "list", "nobody", "--exchange", NOT_A_NODE, *keystore], ""),
        (["api-key", "delete", "nobody", "K" * 64, "--exchange", NOT_A_NODE, *keystore], ""),
        (["burn", "--exchange", NOT_A_NODE, "--admin-token-file", files["token"]], ""),
        (["burn", "--report", "--exchange", NOT_A_NODE], ""),
        (["launchpad", "create", ADDRESS, "--price", "0.1", "--supply", "10", "--hold", "+1s", "+2s", "--subscribe",
          "+2s", "+3s", "--claim-time", "+3s", "--from", "nobody", *keystore], ""),
        (["launchpad", "lock", "1", "10", "--from", "nobody", *keystore], ""),
        (["launchpad", "commit", "1", "-5", "--from", "nobody", *keystore], ""),
        (["launchpad", "claim", "1", "--from", "nobody", *keystore], ""),
        (["launchpad", "finalize", "1", "--from", "nobody", *keystore], ""),
        (["launchpad", "status", "1", "--rpc-url", NOT_A_NODE], ""),
        (["rewards", "epoch", "--exchange", NOT_A_NODE, "--admin-token-file", files["token"]], ""),
        (["rewards", "status", "--exchange", NOT_A_NODE], ""),
        (["rewards", "claim", "nobody", "--exchange", NOT_A_NODE, *keystore], ""),
        (["vote", "create", ADDRESS, "nope", "--start", "+1s", "--end", "+2s", "--from", "nobody", *keystore], ""),
        (["vote", "cast", "1", ADDRESS, "-5", "--from", "nobody", *keystore], ""),
        (["vote", "finalize", "1", "--from", "nobody", *keystore], ""),
        (["vote", "withdraw", "0", "--from", "nobody", *keystore], ""),
        (["vote", "status", "1", "--rpc-url", NOT_A_NODE], ""),
    ]


def test_every_command_reports_bad_input_as_one_line_and_a_non_zero_exit(
        tmp_path: Path, files: dict[str, str], busy_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOURSE_PASSWORD", "a password")
    monkeypatch.setenv("BOURSE_KEYSTORE", str(tmp_path / "default-ks"))
    monkeypatch.delenv("BOURSE_ADMIN_TOKEN", raising=False)
    failures = []
    for args, stdin in cases(files, busy_port, tmp_path):
        result = CliRunner().invoke(main, args, input=stdin)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        ok = (result.exit_code != 0 and "Traceback" not in result.output + result.stderr and len(lines) == 1
              and lines[0].startswith("error: ") and not isinstance(result.exception, AssertionError))
        if not ok:
            failures.append(f"bourse {' '.join(args)} -> exit {result.exit_code}, stderr {result.stderr!r}")
    assert not failures, "\n".join(failures)
    for written in (Path(UNWRITABLE), tmp_path / "up", tmp_path / "ex", tmp_path / "node"):
        assert not written.exists(), f"{written} was written by a command that failed"


def test_every_command_is_covered_by_the_bad_input_test(tmp_path: Path, files: dict[str, str]) -> None:
    covered = {" ".join(a for a in args if not a.startswith("-") and a == a.lower() and "/" not in a
                        and not a.startswith("0x"))
               for args, _ in cases(files, 1, tmp_path)}
    missing = [path for path, _ in _commands(main, []) if not any(c.startswith(path) for c in covered)]
    assert not missing, missing


def test_every_option_has_help_text() -> None:
    missing = [f"bourse {path} {param.opts[-1]}" for path, command in _commands(main, [])
               for param in command.params if isinstance(param, click.Option) and not param.help]
    assert not missing, missing


def _commands(command: click.Command, path: list[str]) -> Iterator[tuple[str, click.Command]]:
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, [*path, name])
    else:
        yield " ".join(path), command


def test_usage_errors_are_one_line_naming_the_help(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["wallet", "tx", "build", "--to", ADDRESS], prog_name="bourse")
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: Missing option '--from'. (see `bourse wallet tx build --help`)"
    assert result.stdout == ""


def test_every_command_that_prints_a_result_has_json_output() -> None:
    long_running = {"node", "up", "exchange", "signer run"}
    secret = {"wallet export"}  # prints only the key, and only when asked
    without = {path for path, command in _commands(main, [])
               if not any(isinstance(p, click.Option) and "--json" in p.opts for p in command.params)}
    assert without == long_running | secret
