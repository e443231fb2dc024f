"""EIP-170/EIP-3860 limits and their flags: --code-size-limit N and --disable-code-size-limit (anvil's)."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from chain import Node, NodeConfig
from chain.provider import BourseProvider

ADDR0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def _returning(size: int) -> str:
    """Initcode that deploys `size` zero bytes."""
    return "0x62" + size.to_bytes(3, "big").hex() + "6000f3"


def _deploy(pv: BourseProvider, initcode: str) -> dict[str, Any]:
    reply = pv.call("eth_sendTransaction", [{"from": ADDR0, "data": initcode, "gas": hex(15_000_000)}])
    assert "result" in reply, reply
    return pv.call("eth_getTransactionReceipt", [reply["result"]])["result"]


def _provider(limit: int | None = 24_576) -> BourseProvider:
    return BourseProvider(Node(NodeConfig(predeploy=False, code_size_limit=limit)))


def test_default_limit_is_eip170() -> None:
    pv = _provider()
    assert _deploy(pv, _returning(24_576))["status"] == "0x1"
    assert _deploy(pv, _returning(24_577))["status"] == "0x0"
    big_initcode = _returning(1) + "00" * (2 * 24_576)
    error = pv.call("eth_sendTransaction", [{"from": ADDR0, "data": big_initcode, "gas": hex(15_000_000)}])["error"]
    assert error["code"] == -32003 and "max initcode size exceeded" in error["message"]


def test_a_custom_limit_applies_to_code_and_initcode() -> None:
    pv = _provider(100)
    assert _deploy(pv, _returning(100))["status"] == "0x1"
    assert _deploy(pv, _returning(101))["status"] == "0x0"
    error = pv.call("eth_estimateGas", [{"from": ADDR0, "data": _returning(1) + "00" * 200}])["error"]
    assert "max initcode size exceeded" in error["message"]  # initcode above twice the limit
    from eth_account import Account
    raw = Account.sign_transaction({"chainId": 31337, "nonce": 2, "gas": 1_000_000, "gasPrice": 10**10, "to": b"",
                                    "data": _returning(1) + "00" * 200},
                                   "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80").raw_transaction
    error = pv.call("eth_sendRawTransaction", ["0x" + raw.hex()])["error"]
    assert error["code"] == -32003 and "max initcode size exceeded" in error["message"]


def test_disabled_limit_deploys_any_size_but_keeps_eip3541() -> None:
    pv = _provider(None)
    receipt = _deploy(pv, _returning(50_000) + "00" * 60_000)  # code and initcode both above the default limits
    assert receipt["status"] == "0x1"
    assert len(pv.call("eth_getCode", [receipt["contractAddress"], "latest"])["result"]) == 2 + 100_000
    assert _deploy(pv, "0x60ef60005360016000f3")["status"] == "0x0"  # code starting with 0xEF is still refused


def test_flags() -> None:
    from chain.cli import node_command
    result = CliRunner().invoke(node_command, ["--code-size-limit", "10", "--disable-code-size-limit", "--port", "0"])
    assert result.exit_code == 2 and "exclusive" in result.output
    result = CliRunner().invoke(node_command, ["--code-size-limit", "0", "--port", "0"])
    assert result.exit_code == 2


@pytest.mark.parametrize("limit", [0, 2**32])
def test_config_refuses_limits_out_of_range(limit: int) -> None:
    with pytest.raises(ValueError):
        NodeConfig(code_size_limit=limit).validate()
