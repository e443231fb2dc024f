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


def refused(rule: str, call: object, *args: object, **kwargs: object) -> None:
    with pytest.raises(PolicyViolation) as info:
        call(*args, **kwargs)  # type: ignore[operator]
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
    e.check_typed_data(0, permit(TOKEN.lower(), ADDR2, 1), ADDR1)
    refused("typed_data_contracts", e.check_typed_data, 0, permit(ADDR2, ADDR2, 1), ADDR1)
    no_contract = permit(TOKEN, ADDR2, 1)
    no_contract["domain"].pop("verifyingContract")
    no_contract["types"]["EIP712Domain"] = no_contract["types"]["EIP712Domain"][:3]
    refused("typed_data_contracts", e.check_typed_data, 0, no_contract, ADDR1)


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


# --- calldata the policy cannot fully decode (security review, issue 11 item 1) -----------------------------------
TRANSFER = encode_call("transfer(address,uint256)", [ADDR2, str(10**24)])


def test_a_transfer_with_a_trailing_byte_is_decoded_and_counted_like_the_token_reads_it() -> None:
    e = engine(max_value_per_tx={TOKEN: 100}, allowlist=[TOKEN, ADDR1])
    refused("allowlist", e.check_transaction, 0, 1, TOKEN, 0, TRANSFER)
    refused("allowlist", e.check_transaction, 0, 1, TOKEN, 0, TRANSFER + b"\x00")  # was approved before the fix
    big_to_ally = encode_call("transfer(address,uint256)", [ADDR1, str(10**24)])
    refused("max_value_per_tx", e.check_transaction, 0, 1, TOKEN, 0, big_to_ally + b"\x00" * 31)
    spend = e.check_transaction(0, 1, TOKEN, 0, encode_call("transfer(address,uint256)", [ADDR1, "100"]) + b"\xff")
    assert spend.assets == ((TOKEN, 100),) and spend.destinations == (TOKEN, ADDR1)


def test_calldata_that_does_not_decode_cleanly_is_refused_whatever_the_other_rules() -> None:
    e = engine(allowlist=[TOKEN, ADDR1])
    short = encode_call("transfer(address,uint256)", [ADDR1, "1"])[:-1]
    dirty = bytearray(encode_call("transfer(address,uint256)", [ADDR1, "1"]))
    dirty[4] = 0x01  # a high byte of the address word: old tokens mask it, new ones revert; we cannot know
    for data in (short, bytes(dirty), b"\x00", b"\xa9\x05\x9c"):
        refused("calldata", e.check_transaction, 0, 1, TOKEN, 0, data)


def test_an_unknown_method_is_refused_unless_the_policy_names_it() -> None:
    unknown = encode_call("mint(address,uint256)", [ADDR2, "1"])
    refused("calldata", engine(allowlist=[TOKEN]).check_transaction, 0, 1, TOKEN, 0, unknown)
    refused("calldata", engine().check_transaction, 0, 1, TOKEN, 0, unknown)
    named = engine(allowed_methods=["mint(address,uint256)"])
    assert named.check_transaction(0, 1, TOKEN, 0, unknown).assets == ()


def test_allowance_increases_permits_and_approvals_count_and_name_their_spender() -> None:
    e = engine(max_value_per_tx={TOKEN: 100}, allowlist=[TOKEN, ADDR1])
    for signature, args in [("increaseAllowance(address,uint256)", [ADDR2, "1"]),
                            ("approve(address,uint256)", [ADDR2, "1"]),
                            ("decreaseAllowance(address,uint256)", [ADDR2, "1"]),
                            ("permit(address,address,uint256,uint256,uint8,bytes32,bytes32)",
                             [ADDR1, ADDR2, "1", "0", "27", "0x" + "11" * 32, "0x" + "22" * 32])]:
        refused("allowlist", e.check_transaction, 0, 1, TOKEN, 0, encode_call(signature, args))
    refused("max_value_per_tx", e.check_transaction, 0, 1, TOKEN, 0,
            encode_call("increaseAllowance(address,uint256)", [ADDR1, "101"]))
    refused("max_value_per_tx", e.check_transaction, 0, 1, TOKEN, 0,
            encode_call("permit(address,address,uint256,uint256,uint8,bytes32,bytes32)",
                        [ADDR1, ADDR1, str(2**256 - 1), "0", "27", "0x" + "11" * 32, "0x" + "22" * 32]))
    assert e.check_transaction(0, 1, TOKEN, 0, encode_call("decreaseAllowance(address,uint256)",
                                                           [ADDR1, str(10**30)])).assets == ()


ROUTER = address_of("AmmRouter")
WBNB = address_of("WrappedNative")


def _swap(name: str, amounts: list[int], path: list[str], to: str) -> bytes:
    from eth_abi import encode
    from eth_utils import function_signature_to_4byte_selector
    types = ["uint256"] * len(amounts) + ["address[]", "address", "uint256"]
    return function_signature_to_4byte_selector(f"{name}({','.join(types)})") + encode(types, [*amounts, path, to, 0])


def test_router_swaps_count_what_they_take_and_check_who_receives() -> None:
    e = engine(max_value_per_tx={TOKEN: 100}, allowlist=[ROUTER, ADDR1])
    spend = e.check_transaction(0, 1, ROUTER, 0, _swap("swapExactTokensForTokens", [100, 1], [TOKEN, WBNB], ADDR1))
    assert spend.assets == ((TOKEN, 100),) and ADDR1 in spend.destinations
    refused("max_value_per_tx", e.check_transaction, 0, 1, ROUTER, 0,
            _swap("swapExactTokensForTokens", [101, 1], [TOKEN, WBNB], ADDR1))
    refused("max_value_per_tx", e.check_transaction, 0, 1, ROUTER, 0,
            _swap("swapTokensForExactETH", [1, 101], [TOKEN, WBNB], ADDR1))  # counts the most it may take
    refused("allowlist", e.check_transaction, 0, 1, ROUTER, 0,
            _swap("swapExactTokensForETH", [1, 1], [TOKEN, WBNB], ADDR2))
    refused("allowlist", e.check_transaction, 0, 1, ROUTER, 5, _swap("swapExactETHForTokens", [1], [WBNB, TOKEN], ADDR2))
    refused("calldata", e.check_transaction, 0, 1, ROUTER, 0,
            _swap("swapExactTokensForTokens", [1, 1], [TOKEN], ADDR1))  # a one-token path
    refused("calldata", e.check_transaction, 0, 1, ROUTER, 0,
            encode_call("removeLiquidity(address,address,uint256,uint256,uint256,address,uint256)",
                        [TOKEN, WBNB, "1", "0", "0", ADDR1, "0"]))


def _multicall(calls: list[bytes], deadline: int | None = None) -> bytes:
    from eth_abi import encode
    from eth_utils import function_signature_to_4byte_selector
    if deadline is None:
        return function_signature_to_4byte_selector("multicall(bytes[])") + encode(["bytes[]"], [calls])
    return function_signature_to_4byte_selector("multicall(uint256,bytes[])") + \
        encode(["uint256", "bytes[]"], [deadline, calls])


def test_multicall_batches_are_decoded_call_by_call_and_summed() -> None:
    e = engine(max_value_per_tx={TOKEN: 100}, allowlist=[TOKEN, ADDR1])
    ok = encode_call("transfer(address,uint256)", [ADDR1, "60"])
    refused("max_value_per_tx", e.check_transaction, 0, 1, TOKEN, 0, _multicall([ok, ok]))  # 120 in one request
    assert e.check_transaction(0, 1, TOKEN, 0, _multicall([ok], deadline=5)).assets == ((TOKEN, 60),)
    hidden = encode_call("transfer(address,uint256)", [ADDR2, "1"])
    refused("allowlist", e.check_transaction, 0, 1, TOKEN, 0, _multicall([ok, hidden]))
    refused("calldata", e.check_transaction, 0, 1, TOKEN, 0,
            _multicall([ok, encode_call("mint(address,uint256)", [ADDR1, "1"])]))
    refused("calldata", e.check_transaction, 0, 1, TOKEN, 0, _multicall([_multicall([ok])]))
    only_transfer = engine(allowed_methods=["multicall(bytes[])", "transfer(address,uint256)"])
    only_transfer.check_transaction(0, 1, TOKEN, 0, _multicall([ok]))
    refused("allowed_methods", only_transfer.check_transaction, 0, 1, TOKEN, 0,
            _multicall([encode_call("approve(address,uint256)", [ADDR1, "1"])]))


# --- gas fees count against the native limits (item 3) ---------------------------------------------------------
def test_the_maximum_gas_fee_counts_against_the_native_caps() -> None:
    e = engine(max_value_per_tx={"native": 0}, daily_limit={"native": 10**18})
    refused("max_value_per_tx", e.check_transaction, 0, 1, ADDR1, 0, b"", gas=21_000, fee_per_gas=1)
    e = engine(max_value_per_tx={"native": 5000 * ETHER})
    refused("max_value_per_tx", e.check_transaction, 0, 1, ADDR1, 0, b"", gas=1_000_000, fee_per_gas=5 * 10**15 + 1)
    e = engine(daily_limit={"native": 21_000 * 10 * 2})
    e.record(0, e.check_transaction(0, 1, ADDR1, 0, b"", gas=21_000, fee_per_gas=10))
    assert e.check_transaction(1, 1, ADDR1, 0, b"", gas=21_000, fee_per_gas=10).assets == (("native", 210_000),)
    e.record(1, e.check_transaction(1, 1, ADDR1, 0, b"", gas=21_000, fee_per_gas=10))
    refused("daily_limit", e.check_transaction, 2, 1, ADDR1, 0, b"", gas=21_000, fee_per_gas=1)


def test_max_gas_and_max_fee_per_gas_rules() -> None:
    e = engine(max_gas=100_000, max_fee_per_gas="50 gwei")
    e.check_transaction(0, 1, ADDR1, 0, b"", gas=100_000, fee_per_gas=50 * 10**9)
    refused("max_gas", e.check_transaction, 0, 1, ADDR1, 0, b"", gas=100_001, fee_per_gas=1)
    refused("max_fee_per_gas", e.check_transaction, 0, 1, ADDR1, 0, b"", gas=21_000, fee_per_gas=50 * 10**9 + 1)


# --- typed data (item 2) ------------------------------------------------------------------------------------------
DOMAIN_TYPE = [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
               {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}]
PERMIT_TYPE = [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"},
               {"name": "value", "type": "uint256"}, {"name": "nonce", "type": "uint256"},
               {"name": "deadline", "type": "uint256"}]


def permit(token: str, spender: str, value: int, chain_id: int = 31337, deadline: int = 1_000,
           owner: str = ADDR1) -> dict[str, object]:
    return {"types": {"EIP712Domain": list(DOMAIN_TYPE), "Permit": list(PERMIT_TYPE)}, "primaryType": "Permit",
            "domain": {"name": "Bourse Coin", "version": "1", "chainId": chain_id, "verifyingContract": token},
            "message": {"owner": owner, "spender": spender, "value": value, "nonce": 0, "deadline": deadline}}


def test_an_unlimited_permit_to_a_stranger_is_refused() -> None:
    e = engine(typed_data_contracts=[TOKEN], allowlist=[ADDR1], max_value_per_tx={TOKEN: 10**18})
    refused("allowlist", e.check_typed_data, 0, permit(TOKEN, ADDR2, 2**256 - 1), ADDR1)
    refused("max_value_per_tx", e.check_typed_data, 0, permit(TOKEN, ADDR1, 2**256 - 1), ADDR1)
    assert e.check_typed_data(0, permit(TOKEN, ADDR1, 10**18), ADDR1).assets == ((TOKEN, 10**18),)


def test_permit_values_count_against_the_daily_limit() -> None:
    e = engine(typed_data_contracts=[TOKEN], daily_limit={TOKEN: 100})
    e.record(0, e.check_typed_data(0, permit(TOKEN, ADDR2, 60), ADDR1))
    refused("daily_limit", e.check_typed_data, 1, permit(TOKEN, ADDR2, 41), ADDR1)
    e.check_typed_data(1, permit(TOKEN, ADDR2, 40), ADDR1)


def test_typed_data_for_another_chain_is_refused_under_chain_ids() -> None:
    e = engine(typed_data_contracts=[TOKEN], chain_ids=[31337])
    e.check_typed_data(0, permit(TOKEN, ADDR2, 1), ADDR1)
    refused("chain_ids", e.check_typed_data, 0, permit(TOKEN, ADDR2, 1, chain_id=56), ADDR1)
    no_chain = permit(TOKEN, ADDR2, 1)
    no_chain["types"]["EIP712Domain"] = [t for t in DOMAIN_TYPE if t["name"] != "chainId"]
    no_chain["domain"].pop("chainId")
    refused("chain_ids", e.check_typed_data, 0, no_chain, ADDR1)


def test_primary_types_and_deadline_bounds() -> None:
    mail = {"types": {"EIP712Domain": DOMAIN_TYPE, "Mail": [{"name": "contents", "type": "string"}]},
            "primaryType": "Mail", "domain": {"name": "x", "version": "1", "chainId": 1, "verifyingContract": TOKEN},
            "message": {"contents": "hi"}}
    refused("typed_data_types", engine(typed_data_contracts=[TOKEN]).check_typed_data, 0, mail, ADDR1)
    engine(typed_data_contracts=[TOKEN], typed_data_types=["Mail"]).check_typed_data(0, mail, ADDR1)
    refused("typed_data_types", engine(typed_data_contracts=[TOKEN], typed_data_types=["Mail"]).check_typed_data,
            0, permit(TOKEN, ADDR2, 1), ADDR1)
    bounded = engine(typed_data_contracts=[TOKEN], max_deadline_seconds=3_600)
    bounded.check_typed_data(1_000, permit(TOKEN, ADDR2, 1, deadline=4_600), ADDR1)
    refused("max_deadline_seconds", bounded.check_typed_data, 1_000, permit(TOKEN, ADDR2, 1, deadline=4_601), ADDR1)
    odd = permit(TOKEN, ADDR2, 1)
    odd["types"]["Permit"] = [*PERMIT_TYPE, {"name": "extra", "type": "uint256"}]  # not the standard Permit
    refused("typed_data_types", engine(typed_data_contracts=[TOKEN]).check_typed_data, 0, odd, ADDR1)
    refused("typed_data", engine(typed_data_contracts=[TOKEN]).check_typed_data, 0,
            permit(TOKEN, ADDR2, 1, owner=ADDR2), ADDR1)


def test_a_vault_order_counts_what_it_sells() -> None:
    from contracts.settlement import Order, typed_data
    vault = address_of("SettlementVault")
    e = engine(typed_data_contracts=[vault], max_value_per_tx={TOKEN: 10**18, WBNB: 2 * 10**18})
    sell = Order(ADDR1, TOKEN, WBNB, False, 10**18, 3 * 10**18, 10**10, 1, 30)
    assert e.check_typed_data(0, typed_data(sell, 31337, vault), ADDR1).assets == ((TOKEN, 10**18),)
    buy = Order(ADDR1, TOKEN, WBNB, True, 10**18, 3 * 10**18, 10**10, 2, 30)  # spends 3 WBNB
    refused("max_value_per_tx", e.check_typed_data, 0, typed_data(buy, 31337, vault), ADDR1)
