"""The trade-mining distributor: the publisher publishes each epoch's root within the funds, each leaf is claimed
once by its proof, a forged proof or amount fails, and the claims never exceed what was funded."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from contracts import merkle
from contracts.deploy import deploy, platform

from .conftest import reverts, send

E18 = 10**18


def setup(w3: Any, accounts: Any, funds: int) -> tuple[Any, Any, str, str]:
    brs = platform(w3)["PlatformToken"]
    owner, publisher = accounts[0].checksum, accounts[1].checksum
    distributor = deploy(w3, "MerkleDistributor", brs.address, publisher)
    send(w3, brs.functions.approve(distributor.address, 2**256 - 1), owner)
    send(w3, distributor.functions.fund(funds), owner)
    return distributor, brs, owner, publisher


def test_publish_claim_once_and_refuse_forgeries(w3: Any, accounts: Any) -> None:
    distributor, brs, owner, publisher = setup(w3, accounts, 100 * E18)
    users = [a.checksum for a in accounts[2:6]]
    amounts = dict(zip(users, (10 * E18, 20 * E18, 5 * E18, 1)))
    tree = merkle.build(1, amounts)
    total = sum(amounts.values())
    reverts(w3, distributor.functions.publish(1, tree.root, total), owner, "distributor: caller is not the publisher")
    reverts(w3, distributor.functions.publish(1, tree.root, 101 * E18), publisher, "distributor: not enough funds")
    reverts(w3, distributor.functions.publish(1, b"\0" * 32, total), publisher, "distributor: empty epoch")
    send(w3, distributor.functions.publish(1, tree.root, total), publisher)
    reverts(w3, distributor.functions.publish(1, tree.root, total), publisher, "distributor: epoch already published")
    first = users[0]
    reverts(w3, distributor.functions.claim(2, first, amounts[first], tree.proofs[first]), first,
            "distributor: epoch not published")
    reverts(w3, distributor.functions.claim(1, first, amounts[first] + 1, tree.proofs[first]), first,
            "distributor: invalid proof")  # a forged amount
    reverts(w3, distributor.functions.claim(1, users[1], amounts[first], tree.proofs[first]), first,
            "distributor: invalid proof")  # someone else's proof
    before = brs.functions.balanceOf(first).call()
    receipt = send(w3, distributor.functions.claim(1, first, amounts[first], tree.proofs[first]), users[3])
    assert brs.functions.balanceOf(first).call() == before + amounts[first]  # paid to the account, whoever sent it
    [event] = distributor.events.Claimed().process_receipt(receipt)
    assert (event.args.epoch, event.args.account, event.args.amount) == (1, first, amounts[first])
    reverts(w3, distributor.functions.claim(1, first, amounts[first], tree.proofs[first]), first,
            "distributor: already claimed")
    reverts(w3, distributor.functions.setPublisher(owner), publisher, "ownable: caller is not the owner")
    send(w3, distributor.functions.setPublisher(owner), owner)
    assert distributor.functions.publisher().call() == owner
    reverts(w3, distributor.functions.fund(0), owner, "distributor: zero amount")


@given(amounts=st.lists(st.integers(1, 10**24), min_size=1, max_size=5), epochs=st.integers(1, 3))
def test_claims_never_exceed_the_funds(w3: Any, accounts: Any, amounts: list[int], epochs: int) -> None:
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    try:
        funds = sum(amounts) * epochs
        distributor, brs, owner, publisher = setup(w3, accounts, funds)
        users = [a.checksum for a in accounts[2:2 + len(amounts)]]
        paid = 0
        for epoch in range(1, epochs + 1):
            rewards = dict(zip(users, amounts))
            tree = merkle.build(epoch, rewards)
            assert all(merkle.verify(tree.root, epoch, u, n, tree.proofs[u]) for u, n in rewards.items())
            send(w3, distributor.functions.publish(epoch, tree.root, sum(rewards.values())), publisher)
            for user, amount in rewards.items():
                send(w3, distributor.functions.claim(epoch, user, amount, tree.proofs[user]), user)
                paid += amount
        assert paid <= funds and brs.functions.balanceOf(distributor.address).call() == funds - paid
        reverts(w3, distributor.functions.publish(epochs + 1, tree.root, 1), publisher, "distributor: not enough funds")
    finally:
        w3.provider.make_request("evm_revert", [snapshot])


def test_the_tree_does_not_depend_on_the_order_of_its_leaves(accounts: Any) -> None:
    users = [a.checksum for a in accounts[:5]]
    forward = merkle.build(7, {u: i + 1 for i, u in enumerate(users)})
    backward = merkle.build(7, {u: i + 1 for i, u in reversed(list(enumerate(users)))})
    assert forward.root == backward.root and forward.proofs == backward.proofs
    assert not merkle.verify(forward.root, 8, users[0], 1, forward.proofs[users[0]])  # another epoch's leaf
