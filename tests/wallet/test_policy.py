from __future__ import annotations

from pathlib import Path

import pytest

from contracts.predeploy import address_of
from wallet.calldata import encode_call
from wallet.errors import PolicyError, PolicyViolation
from wallet.policy import KeyPolicy, PolicyEngine, load_policies

from .conftest import ADDR1, ADDR2

TOKEN = address_of("PlatformToken")
ETHER = 10**18


def engine(**rules: object) -> PolicyEngine:
    return PolicyEngine(KeyPolicy.parse("test", rules))


def refused(rule: str, call: object, *args: object) -> None:
    with pytest.raises(PolicyViolation) as info:
        call(*args)  # type: ignore[operator]
    assert info.value.rule == rule


def test_value_at_the_per_transaction_cap_passes_and_one_wei_more_is_refused() -> None:
    e = engine(max_value_per_tx={"native": "1 ether"})
    e.check_transaction(0, 1, ADDR1, ETHER, b"")
    refused("max_value_per_tx", e.check_transaction, 0, 1, ADDR1, ETHER + 1, b"")


def test_token_amounts_decoded_from_calldata_count_against_the_token_cap() -> None:
    e = engine(max_value_per_tx={TOKEN: 100})
    e.check_transaction(0, 1, TOKEN, 0, encode_call("transfer(address,uint256)", [ADDR1, "100"]))
    refused("max_value_per_tx", e.check_transaction, 0, 1, TOKEN, 0,
            encode_call("transfer(address,uint256)", [ADDR1, "101"]))


def test_rolling_daily_limit_counts_signed_requests_and_frees_up_after_24_hours() -> None:
    e = engine(daily_limit={"native": "3 ether"})
    for t in (0, 10, 20):
        e.record(t, e.check_transaction(t, 1, ADDR1, ETHER, b""))
    refused("daily_limit", e.check_transaction, 30, 1, ADDR1, 1, b"")
    refused("daily_limit", e.check_transaction, 86_399, 1, ADDR1, 1, b"")
    e.check_transaction(86_400, 1, ADDR1, ETHER, b"")  # the first request is now 24 hours old and no longer counts
    refused("daily_limit", e.check_transaction, 86_400, 1, ADDR1, ETHER + 1, b"")


def test_refused_requests_change_no_counter() -> None:
    e = engine(daily_limit={"native": 100}, max_tx_per_minute=1)
    refused("daily_limit", e.check_transaction, 0, 1, ADDR1, 101, b"")
    e.record(0, e.check_transaction(0, 1, ADDR1, 100, b""))  # still the full allowance, and the first request
    refused("max_tx_per_minute", e.check_transaction, 1, 1, ADDR1, 0, b"")
    refused("max_tx_per_minute", e.check_transaction, 2, 1, ADDR1, 0, b"")
    e.check_transaction(86_401, 1, ADDR1, 100, b"")


def test_rate_limit_allows_the_cap_per_minute() -> None:
    e = engine(max_tx_per_minute=2)
    e.record(0, e.check_transaction(0, 1, ADDR1, 0, b""))
    e.record(1, e.check_transaction(1, 1, ADDR1, 0, b""))
    refused("max_tx_per_minute", e.check_transaction, 59, 1, ADDR1, 0, b"")
    e.check_transaction(60, 1, ADDR1, 0, b"")


def test_allowlist_covers_the_destination_and_an_erc20_recipient() -> None:
    e = engine(allowlist=[ADDR1, TOKEN])
    e.check_transaction(0, 1, ADDR1, 1, b"")
    refused("allowlist", e.check_transaction, 0, 1, ADDR2, 1, b"")
    e.check_transaction(0, 1, TOKEN, 0, encode_call("transfer(address,uint256)", [ADDR1, "1"]))
    refused("allowlist", e.check_transaction, 0, 1, TOKEN, 0, encode_call("transfer(address,uint256)", [ADDR2, "1"]))


def test_allowed_methods_by_selector_or_signature() -> None:
    e = engine(allowed_methods=["transfer(address,uint256)", "0x095ea7b3"])
    e.check_transaction(0, 1, TOKEN, 0, encode_call("transfer(address,uint256)", [ADDR1, "1"]))
    e.check_transaction(0, 1, TOKEN, 0, encode_call("approve(address,uint256)", [ADDR1, "1"]))
    e.check_transaction(0, 1, ADDR1, 5, b"")  # a plain transfer calls no method
    refused("allowed_methods", e.check_transaction, 0, 1, TOKEN, 0,
            encode_call("transferFrom(address,address,uint256)", [ADDR1, ADDR2, "1"]))


def test_chain_ids_and_contract_creation() -> None:
    e = engine(chain_ids=[31337])
    e.check_transaction(0, 31337, ADDR1, 0, b"")
    refused("chain_ids", e.check_transaction, 0, 56, ADDR1, 0, b"")
    refused("allow_contract_creation", e.check_transaction, 0, 31337, None, 0, b"\x60")
    engine(allow_contract_creation=True).check_transaction(0, 1, None, 0, b"\x60")


def test_typed_data_only_for_listed_contracts() -> None:
    e = engine(typed_data_contracts=[TOKEN])
    e.check_typed_data(0, TOKEN.lower())
    refused("typed_data_contracts", e.check_typed_data, 0, ADDR1)
    refused("typed_data_contracts", e.check_typed_data, 0, None)


def test_policy_file_loads_per_key_tables_and_rejects_unknown_rules(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(f'[keys.operator]\nmax_value_per_tx = {{ native = "2 ether", "{TOKEN}" = 5 }}\n'
                    f'allowlist = ["{ADDR1}"]\nmax_tx_per_minute = 3\n')
    policies = load_policies(path)
    assert policies["operator"].max_value_per_tx == {"native": 2 * ETHER, TOKEN: 5}
    path.write_text("[keys.operator]\nmax_valu_per_tx = 1\n")
    with pytest.raises(PolicyError, match="unknown rule"):
        load_policies(path)
    path.write_text("[keys.operator\n")
    with pytest.raises(PolicyError, match="policy file"):
        load_policies(path)
    path.write_text('[keys.operator]\nallowlist = ["bob"]\n')
    with pytest.raises(PolicyError, match="not an address"):
        load_policies(path)
    path.write_text('[keys.operator]\ndaily_limit = { native = "-1" }\n')
    with pytest.raises(PolicyError):
        load_policies(path)
