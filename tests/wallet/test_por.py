from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallet.errors import ReserveError
from wallet.por import Node, build, coverage, parent, parse_liabilities, proof_file_name, verify_proof, write_tree

BALANCES = {"alice": {"BRS": 100, "WBNB": 5}, "bob": {"BRS": 50}, "carol": {"WBNB": 7}}


def test_every_users_proof_verifies_against_the_root_and_totals() -> None:
    tree = build(BALANCES)
    root = tree.root_json()
    assert root["totals"] == {"BRS": "150", "WBNB": "12"} and root["users"] == 3
    for account, proof in tree.proofs.items():
        assert verify_proof(proof, root) == {a: BALANCES[account].get(a, 0) for a in ("BRS", "WBNB")}


def test_a_proof_with_a_changed_balance_or_sibling_fails() -> None:
    tree = build(BALANCES)
    root = tree.root_json()
    proof = json.loads(json.dumps(tree.proofs["alice"]))
    proof["balances"][0] = "99"
    with pytest.raises(ReserveError, match="add up"):
        verify_proof(proof, root)
    proof = json.loads(json.dumps(tree.proofs["alice"]))
    proof["leaves"][0]["balances"][0] = str(int(proof["leaves"][0]["balances"][0]) + 1)
    with pytest.raises(ReserveError, match="root"):
        verify_proof(proof, root)
    proof = json.loads(json.dumps(tree.proofs["alice"]))
    proof["leaves"][0]["path"][0]["sums"][0] = str(int(proof["leaves"][0]["path"][0]["sums"][0]) + 1)
    with pytest.raises(ReserveError):
        verify_proof(proof, root)
    proof = json.loads(json.dumps(tree.proofs["alice"]))
    proof["leaves"] = proof["leaves"][:1]  # one fragment alone does not make the balance
    with pytest.raises(ReserveError, match="add up"):
        verify_proof(proof, root)


def test_shifting_value_between_siblings_is_caught_because_nodes_commit_to_both_sums() -> None:
    # Maxwell's original scheme hashed only the total: a prover could show alice a sibling with a smaller sum
    # and bob the same total another way. Here the parent hash binds each child's sums separately.
    left, right = Node(b"\x01" * 32, (10,)), Node(b"\x02" * 32, (5,))
    shifted_left, shifted_right = Node(b"\x01" * 32, (12,)), Node(b"\x02" * 32, (3,))
    assert parent(left, right).sums == parent(shifted_left, shifted_right).sums
    assert parent(left, right).hash != parent(shifted_left, shifted_right).hash


def test_root_totals_that_do_not_match_the_tree_fail() -> None:
    tree = build(BALANCES)
    root = tree.root_json()
    root["totals"]["BRS"] = "149"
    with pytest.raises(ReserveError, match="totals"):
        verify_proof(tree.proofs["bob"], root)


def test_negative_balances_and_duplicate_entries_are_rejected() -> None:
    with pytest.raises(ReserveError, match="negative"):
        parse_liabilities("account,asset,amount\nalice,BRS,-1\n")
    with pytest.raises(ReserveError, match="duplicate"):
        parse_liabilities("account,asset,amount\nalice,BRS,1\nalice,BRS,2\n")
    with pytest.raises(ReserveError, match="integer"):
        parse_liabilities("account,asset,amount\nalice,BRS,1.5\n")
    with pytest.raises(ReserveError, match="needs account"):
        parse_liabilities("user,asset,amount\nalice,BRS,1\n")
    with pytest.raises(ReserveError, match="negative"):
        build({"alice": {"BRS": -5}})


def test_csv_and_json_liabilities_parse_to_the_same_balances() -> None:
    csv_text = "account,asset,amount\nalice,BRS,100\nalice,WBNB,5\nbob,BRS,50\ncarol,WBNB,7\n"
    json_text = json.dumps([{"account": "alice", "asset": "BRS", "amount": 100},
                            {"account": "alice", "asset": "WBNB", "amount": "5"},
                            {"account": "bob", "asset": "BRS", "amount": 50},
                            {"account": "carol", "asset": "WBNB", "amount": 7}])
    assert parse_liabilities(csv_text) == parse_liabilities(json_text, "json") == BALANCES


def test_written_tree_has_a_root_and_one_proof_file_per_user(tmp_path: Path) -> None:
    tree = build({**BALANCES, "0xAbC/../x": {"BRS": 1}})
    write_tree(tree, tmp_path)
    root = json.loads((tmp_path / "root.json").read_text())
    names = sorted(p.name for p in (tmp_path / "proofs").iterdir())
    assert len(names) == 4 and "alice.json" in names and proof_file_name("0xAbC/../x") + ".json" in names
    assert proof_file_name("0xAbC/../x").startswith("@")
    for path in (tmp_path / "proofs").iterdir():
        verify_proof(json.loads(path.read_text()), root)


def test_coverage_reports_each_asset() -> None:
    assert coverage({"BRS": 10, "WBNB": 5}, {"BRS": 10, "WBNB": 4}) == [("BRS", 10, 10, True), ("WBNB", 4, 5, False)]


@given(st.dictionaries(st.text(min_size=1, max_size=8), st.dictionaries(st.sampled_from(["A", "B", "C"]),
                                                                         st.integers(0, 2**200), min_size=1),
                       min_size=1, max_size=20))
def test_any_liabilities_give_proofs_that_verify_and_totals_that_add_up(balances: dict) -> None:
    tree = build(balances)
    root = tree.root_json()
    for asset, total in root["totals"].items():
        assert int(total) == sum(b.get(asset, 0) for b in balances.values())
    for proof in tree.proofs.values():
        verify_proof(proof, root)


def test_no_proof_shows_another_users_exact_balance() -> None:
    """The review's finding: with one leaf per user, a proof's first sibling was a neighbour's exact balance."""
    balances = {f"user{i}": {"BRS": 10**18 + 7_919 * i, "WBNB": 3 * 10**17 + 104_729 * i} for i in range(9)}
    for _ in range(5):  # placements are random: several trees
        tree = build(balances)
        exact = {(str(b["BRS"]), str(b["WBNB"])) for b in balances.values()}
        for account, proof in tree.proofs.items():
            assert len(proof["leaves"]) == 2
            for leaf in proof["leaves"]:
                for step in leaf["path"][:-1]:  # the last step's sibling is half the tree
                    assert tuple(step["sums"]) not in exact, (account, step)


def test_totals_beyond_256_bits_and_malformed_proofs_are_clear_errors() -> None:
    with pytest.raises(ReserveError, match="256 bits"):
        build({"a": {"X": 2**256 - 1}, "b": {"X": 1}})
    tree = build(BALANCES)
    root = tree.root_json()
    for broken in ({}, {"assets": ["BRS", "WBNB"]}, {**tree.proofs["bob"], "leaves": "x"},
                   {**tree.proofs["bob"], "leaves": [{"salt": "zz", "balances": ["1", "2"], "path": []}]}):
        with pytest.raises(ReserveError):
            verify_proof(broken, root)  # type: ignore[arg-type]
    big = json.loads(json.dumps(tree.proofs["bob"]))
    big["leaves"][0]["path"][0]["sums"][0] = str(2**256 - 1)
    with pytest.raises(ReserveError):
        verify_proof(big, root)


def test_version_1_proofs_still_verify() -> None:
    from wallet.por import leaf_hash, parent
    salt = bytes(16)
    alice = Node(leaf_hash("alice", salt, (5,)), (5,))
    bob = Node(b"\x07" * 32, (3,))
    top = parent(alice, bob)
    proof = {"kind": "bourse/por-proof", "version": 1, "account": "alice", "salt": salt.hex(), "assets": ["X"],
             "balances": ["5"], "path": [{"side": "right", "hash": bob.hash.hex(), "sums": ["3"]}],
             "root": top.hash.hex()}
    assert verify_proof(proof, {"assets": ["X"], "root": top.hash.hex(), "totals": {"X": "8"}}) == {"X": 5}
