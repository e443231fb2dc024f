"""Listing votes: rounds of candidate tokens, one BRS-weighted vote per address per round, winners (most votes first)
listed by event when the round is finalized, every voter's BRS returned."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from contracts.deploy import deploy, platform

from .conftest import reverts, send

E18 = 10**18


def now(w3: Any) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


def warp(w3: Any, timestamp: int) -> None:
    w3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])
    w3.provider.make_request("evm_mine", [])


def setup(w3: Any, accounts: Any, candidates: int, winners: int, voters: int = 4) -> dict[str, Any]:
    brs = platform(w3)["PlatformToken"]
    owner = accounts[0].checksum
    booth = deploy(w3, "ListingVote", brs.address)
    tokens = [deploy(w3, "PlatformToken", f"C{i}", f"C{i}", 10**24).address for i in range(candidates)]
    start = now(w3) + 10
    receipt = send(w3, booth.functions.createRound(tokens, start, start + 100, winners), owner)
    [created] = booth.events.RoundCreated().process_receipt(receipt)
    people = [a.checksum for a in accounts[1:1 + voters]]
    for user in people:
        send(w3, brs.functions.transfer(user, 10**6 * E18), owner)
        send(w3, brs.functions.approve(booth.address, 2**256 - 1), user)
    return {"booth": booth, "brs": brs, "owner": owner, "tokens": tokens, "voters": people,
            "round": created.args.roundId, "start": start, "end": start + 100}


def test_a_round_lists_its_winners_and_returns_the_locked_brs(w3: Any, accounts: Any) -> None:
    s = setup(w3, accounts, candidates=3, winners=2)
    booth, brs, tokens, (a, b, c, d), round_id = s["booth"], s["brs"], s["tokens"], s["voters"], s["round"]
    reverts(w3, booth.functions.vote(round_id, tokens[0], E18), a, "vote: round not open")
    warp(w3, s["start"])
    send(w3, booth.functions.vote(round_id, tokens[1], 30 * E18), a)
    send(w3, booth.functions.vote(round_id, tokens[2], 20 * E18), b)
    send(w3, booth.functions.vote(round_id, tokens[1], 5 * E18), c)
    reverts(w3, booth.functions.vote(round_id, tokens[0], E18), a, "vote: already voted in this round")
    reverts(w3, booth.functions.vote(round_id, s["owner"], E18), d, "vote: not a candidate")
    reverts(w3, booth.functions.vote(round_id, tokens[0], 0), d, "vote: zero amount")
    reverts(w3, booth.functions.finalize(round_id), d, "vote: round still open")
    reverts(w3, booth.functions.withdraw(round_id), a, "vote: round still open")
    before = brs.functions.balanceOf(a).call()
    warp(w3, s["end"])
    reverts(w3, booth.functions.vote(round_id, tokens[0], E18), d, "vote: round not open")
    receipt = send(w3, booth.functions.finalize(round_id), d)  # anyone
    listed = [(e.args.token, e.args.roundId, e.args.votes) for e in booth.events.Listed().process_receipt(receipt)]
    assert listed == [(tokens[1], round_id, 35 * E18), (tokens[2], round_id, 20 * E18)]
    reverts(w3, booth.functions.finalize(round_id), d, "vote: already finalized")
    send(w3, booth.functions.withdraw(round_id), a)
    assert brs.functions.balanceOf(a).call() == before + 30 * E18
    reverts(w3, booth.functions.withdraw(round_id), a, "vote: nothing locked")
    reverts(w3, booth.functions.withdraw(round_id), d, "vote: nothing locked")


def test_create_round_is_checked_and_owner_only(w3: Any, accounts: Any) -> None:
    brs = platform(w3)["PlatformToken"]
    owner, other = accounts[0].checksum, accounts[1].checksum
    booth = deploy(w3, "ListingVote", brs.address)
    token = deploy(w3, "PlatformToken", "C", "C", 10**24).address
    t = now(w3)
    reverts(w3, booth.functions.createRound([token], t, t + 10, 1), other, "ownable: caller is not the owner")
    reverts(w3, booth.functions.createRound([], t, t + 10, 1), owner, "vote: bad candidates or winners")
    reverts(w3, booth.functions.createRound([token], t, t + 10, 2), owner, "vote: bad candidates or winners")
    reverts(w3, booth.functions.createRound([token], t + 10, t + 10, 1), owner, "vote: window out of order")
    reverts(w3, booth.functions.createRound([token, token], t, t + 10, 1), owner, "vote: duplicate candidate")
    reverts(w3, booth.functions.createRound([brs.address], t, t + 10, 1), owner, "vote: bad candidate")
    reverts(w3, booth.functions.vote(1, token, 1), other, "vote: no such round")


@given(weights=st.lists(st.tuples(st.integers(0, 3), st.integers(1, 10**24)), min_size=0, max_size=4),
       winners=st.integers(1, 4))
def test_winners_are_the_most_voted_and_every_voter_is_repaid(w3: Any, accounts: Any,
                                                              weights: list[tuple[int, int]], winners: int) -> None:
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    try:
        s = setup(w3, accounts, candidates=4, winners=winners, voters=max(1, len(weights)))
        booth, brs, tokens, round_id = s["booth"], s["brs"], s["tokens"], s["round"]
        warp(w3, s["start"])
        tally = [0] * 4
        for voter, (choice, amount) in zip(s["voters"], weights):
            send(w3, booth.functions.vote(round_id, tokens[choice], amount), voter)
            tally[choice] += amount
        warp(w3, s["end"])
        receipt = send(w3, booth.functions.finalize(round_id), s["owner"])
        listed = [e.args.token for e in booth.events.Listed().process_receipt(receipt)]
        expected = [tokens[i] for i in sorted((i for i in range(4) if tally[i]), key=lambda i: (-tally[i], i))]
        assert listed == expected[:winners]
        for voter in s["voters"][:len(weights)]:
            send(w3, booth.functions.withdraw(round_id), voter)
        assert brs.functions.balanceOf(booth.address).call() == 0
    finally:
        w3.provider.make_request("evm_revert", [snapshot])
