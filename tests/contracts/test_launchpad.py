"""The Launchpad: Binance Launchpad's subscription format - lock BRS in the holding period, commit up to the cap in
the subscription window, claim tokens, refund and locked BRS from the claim time; the owner collects what was raised
and the tokens left unsold. Positive and negative cases for each function, and properties over random sales."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.deploy import deploy, platform

from .conftest import reverts, send

E18 = 10**18
HOLD, SUBSCRIBE, CLAIM = 100, 200, 300  # seconds after the sale is created: windows [100, 200), [200, 300), 300+


def now(w3: Any) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


def warp(w3: Any, timestamp: int) -> None:
    w3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])
    w3.provider.make_request("evm_mine", [])


def setup_sale(w3: Any, accounts: Any, price: int, supply: int, cap_ratio: int, users: int = 3) -> dict[str, Any]:
    brs = platform(w3)["PlatformToken"]
    owner = accounts[0].checksum
    pad = deploy(w3, "Launchpad", brs.address)
    project = deploy(w3, "PlatformToken", "Project", "PRJ", 10**30)
    send(w3, project.functions.approve(pad.address, 2**256 - 1), owner)
    start = now(w3)
    times = (start + HOLD, start + HOLD + 50, start + SUBSCRIBE, start + SUBSCRIBE + 50, start + CLAIM)
    receipt = send(w3, pad.functions.createSale(project.address, price, supply, cap_ratio, *times), owner)
    [created] = pad.events.SaleCreated().process_receipt(receipt)
    people = [a.checksum for a in accounts[1:1 + users]]
    for user in people:
        send(w3, brs.functions.transfer(user, 10**6 * E18), owner)
        send(w3, brs.functions.approve(pad.address, 2**256 - 1), user)
    return {"pad": pad, "brs": brs, "project": project, "owner": owner, "users": people, "sale": created.args.saleId,
            "times": times}


def test_a_sale_from_lock_to_claim(w3: Any, accounts: Any) -> None:
    s = setup_sale(w3, accounts, price=E18 // 2, supply=1000 * E18, cap_ratio=2 * E18)
    pad, brs, project, owner, (alice, bob, carol), sale = (s["pad"], s["brs"], s["project"], s["owner"], s["users"],
                                                           s["sale"])
    hold_start, hold_end, sub_start, sub_end, claim_time = s["times"]
    assert project.functions.balanceOf(pad.address).call() == 1000 * E18
    reverts(w3, pad.functions.lock(sale, E18), alice, "launchpad: not in the holding period")
    warp(w3, hold_start)
    send(w3, pad.functions.lock(sale, 100 * E18), alice)
    send(w3, pad.functions.lock(sale, 50 * E18), bob)
    reverts(w3, pad.functions.lock(sale, 0), alice, "launchpad: zero amount")
    reverts(w3, pad.functions.commit(sale, E18), alice, "launchpad: not in the subscription window")
    assert pad.functions.cap(sale, alice).call() == 200 * E18
    warp(w3, sub_start)
    reverts(w3, pad.functions.lock(sale, E18), carol, "launchpad: not in the holding period")
    send(w3, pad.functions.commit(sale, 150 * E18), alice)
    send(w3, pad.functions.commit(sale, 100 * E18), bob)
    reverts(w3, pad.functions.commit(sale, 1), bob, "launchpad: above your cap")
    reverts(w3, pad.functions.commit(sale, 1), carol, "launchpad: above your cap")  # locked nothing
    reverts(w3, pad.functions.claim(sale), alice, "launchpad: claims have not opened")
    # 250 BRS at 0.5 buys 500 of the 1000 tokens: undersubscribed, everyone gets commit / price
    assert pad.functions.allocationOf(sale, alice).call() == [300 * E18, 150 * E18, 0]
    warp(w3, claim_time)
    brs_before = brs.functions.balanceOf(alice).call()
    receipt = send(w3, pad.functions.claim(sale), alice)
    [claimed] = pad.events.Claimed().process_receipt(receipt)
    assert (claimed.args.allocation, claimed.args.payment, claimed.args.refund, claimed.args.unlocked) == \
        (300 * E18, 150 * E18, 0, 100 * E18)
    assert project.functions.balanceOf(alice).call() == 300 * E18
    assert brs.functions.balanceOf(alice).call() == brs_before + 100 * E18  # the locked BRS back
    reverts(w3, pad.functions.claim(sale), alice, "launchpad: already claimed")
    reverts(w3, pad.functions.claim(sale), carol, "launchpad: nothing to claim")
    reverts(w3, pad.functions.collectRaised(sale), alice, "ownable: caller is not the owner")
    send(w3, pad.functions.collectRaised(sale), owner)  # alice's 150 so far
    reverts(w3, pad.functions.collectRaised(sale), owner, "launchpad: nothing to collect")
    assert pad.functions.unsold(sale).call() == 500 * E18  # beyond what the commitments can ever take
    send(w3, pad.functions.withdrawUnsold(sale), owner)
    send(w3, pad.functions.claim(sale), bob)
    send(w3, pad.functions.collectRaised(sale), owner)
    reverts(w3, pad.functions.withdrawUnsold(sale), owner, "launchpad: nothing unsold")
    assert brs.functions.balanceOf(pad.address).call() == 0 and project.functions.balanceOf(pad.address).call() == 0


def test_an_oversubscribed_sale_allocates_pro_rata_and_rounds_for_the_pool(w3: Any, accounts: Any) -> None:
    s = setup_sale(w3, accounts, price=3 * E18, supply=100, cap_ratio=E18)
    pad, (alice, bob, carol), sale = s["pad"], s["users"], s["sale"]
    hold_start, _, sub_start, _, claim_time = s["times"]
    warp(w3, hold_start)
    for user, amount in ((alice, 1000), (bob, 700), (carol, 301)):
        send(w3, pad.functions.lock(sale, amount), user)
    warp(w3, sub_start)
    for user, amount in ((alice, 1000), (bob, 700), (carol, 301)):
        send(w3, pad.functions.commit(sale, amount), user)
    # 2001 units at 3 would buy 667 > 100: oversubscribed; alice 1000 * 100 // 2001 = 49 tokens, costing 147
    assert pad.functions.allocationOf(sale, alice).call() == [49, 147, 853]
    assert pad.functions.allocationOf(sale, carol).call() == [15, 45, 256]
    warp(w3, claim_time)
    for user in (alice, bob, carol):
        send(w3, pad.functions.claim(sale), user)
    info = pad.functions.sales(sale).call()
    assert info[13] == 49 + 34 + 15 <= 100  # allocated
    assert pad.functions.unsold(sale).call() == 100 - 98  # the rounding remainder, once everyone has claimed


def test_create_sale_is_checked_and_owner_only(w3: Any, accounts: Any) -> None:
    brs = platform(w3)["PlatformToken"]
    owner, other = accounts[0].checksum, accounts[1].checksum
    pad = deploy(w3, "Launchpad", brs.address)
    project = deploy(w3, "PlatformToken", "Project", "PRJ", 10**30)
    send(w3, project.functions.approve(pad.address, 2**256 - 1), owner)
    t = now(w3)
    good = [project.address, E18, 10, E18, t + 10, t + 20, t + 20, t + 30, t + 30]
    reverts(w3, pad.functions.createSale(*good), other, "ownable: caller is not the owner")
    for index, value, reason in ((0, brs.address, "launchpad: bad token"),
                                 (1, 0, "launchpad: zero price, supply or ratio"),
                                 (2, 0, "launchpad: zero price, supply or ratio"),
                                 (5, t + 10, "launchpad: windows out of order"),
                                 (6, t + 19, "launchpad: windows out of order"),
                                 (8, t + 29, "launchpad: claim before the subscription ends")):
        bad = list(good)
        bad[index] = value
        reverts(w3, pad.functions.createSale(*bad), owner, reason)
    reverts(w3, pad.functions.lock(1, E18), other, "launchpad: no such sale")
    reverts(w3, pad.functions.claim(7), other, "launchpad: no such sale")


@given(price=st.integers(1, 10 * E18), supply=st.integers(1, 10**24), ratio=st.integers(E18 // 10, 5 * E18),
       locks=st.lists(st.integers(1, 10**22), min_size=1, max_size=3),
       fractions=st.lists(st.integers(0, 100), min_size=3, max_size=3))
def test_sale_properties(w3: Any, accounts: Any, price: int, supply: int, ratio: int, locks: list[int],
                         fractions: list[int]) -> None:
    """Allocations never exceed the supply; raised + refunds = total committed to the wei; each claims once;
    rounding never favours a claimant (allocation x price <= payment x 1e18); the launchpad ends up empty."""
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    try:
        s = setup_sale(w3, accounts, price, supply, ratio, users=len(locks))
        pad, brs, project, owner, users, sale = (s["pad"], s["brs"], s["project"], s["owner"], s["users"],
                                                 s["sale"])
        hold_start, _, sub_start, _, claim_time = s["times"]
        warp(w3, hold_start)
        for user, amount in zip(users, locks):
            send(w3, pad.functions.lock(sale, amount), user)
        warp(w3, sub_start)
        commits = {}
        for user, amount, fraction in zip(users, locks, fractions):
            commits[user] = amount * ratio // E18 * fraction // 100
            if commits[user]:
                send(w3, pad.functions.commit(sale, commits[user]), user)
        warp(w3, claim_time)
        allocated = raised = refunds = 0
        for user in users:
            receipt = send(w3, pad.functions.claim(sale), user)
            [c] = pad.events.Claimed().process_receipt(receipt)
            assert c.args.payment + c.args.refund == commits[user]
            assert c.args.allocation * price <= c.args.payment * E18  # the pool is never short-changed
            allocated += c.args.allocation
            raised += c.args.payment
            refunds += c.args.refund
            reverts(w3, pad.functions.claim(sale), user, "launchpad: already claimed")
        assert allocated <= supply
        assert raised + refunds == sum(commits.values())
        if raised:
            send(w3, pad.functions.collectRaised(sale), owner)
        if pad.functions.unsold(sale).call():
            send(w3, pad.functions.withdrawUnsold(sale), owner)
        assert brs.functions.balanceOf(pad.address).call() == 0
        assert project.functions.balanceOf(pad.address).call() == 0
    finally:
        w3.provider.make_request("evm_revert", [snapshot])


@pytest.mark.parametrize("step", ["lock", "commit", "claim"])
def test_nothing_moves_outside_its_window(w3: Any, accounts: Any, step: str) -> None:
    s = setup_sale(w3, accounts, price=E18, supply=10 * E18, cap_ratio=E18, users=1)
    pad, (alice,), sale = s["pad"], s["users"], s["sale"]
    hold_start, hold_end, sub_start, sub_end, claim_time = s["times"]
    warp(w3, hold_start)
    send(w3, pad.functions.lock(sale, 5 * E18), alice)
    windows = {"lock": (hold_start, hold_end), "commit": (sub_start, sub_end), "claim": (claim_time, None)}
    first, end = windows[step]
    call = {"lock": pad.functions.lock(sale, E18), "commit": pad.functions.commit(sale, E18),
            "claim": pad.functions.claim(sale)}[step]
    message = {"lock": "launchpad: not in the holding period", "commit": "launchpad: not in the subscription window",
               "claim": "launchpad: claims have not opened"}[step]
    if first - 1 > now(w3):
        warp(w3, first - 1)
        reverts(w3, call, alice, message)
    if end is not None:
        warp(w3, end)
        reverts(w3, call, alice, message)
