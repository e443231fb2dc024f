"""`bourse vote`: a listing round run from the command line against the node's predeployed listing-vote contract -
create, cast, status, finalize (which lists the winner), withdraw - with keystore accounts, --json, and one-line
errors for a step outside its window."""

from __future__ import annotations

from pathlib import Path

from web3 import Web3

from chain import Node
from chain.server import ServerThread
from contracts.deploy import deploy, platform

from .cli_session import CliSession

E18 = 10**18


def test_a_listing_round_from_the_command_line(http_node: tuple[Node, ServerThread], tmp_path: Path) -> None:
    node, server = http_node
    url = server.url
    w3 = Web3(Web3.HTTPProvider(url))
    cli = CliSession(url, tmp_path, dict(zip(["owner", "alice", "bob"], node.accounts)))
    run, refused, bourse = cli.run, cli.refused, cli.bourse
    owner, alice, bob = (a.checksum for a in node.accounts[:3])
    brs = platform(w3)["PlatformToken"]
    for user in (alice, bob):
        w3.eth.wait_for_transaction_receipt(brs.functions.transfer(user, 100 * E18).transact({"from": owner}))
    first, second = (deploy(w3, "PlatformToken", name, name, 10**9 * E18).address for name in ("ONE", "TWO"))

    assert "must be an address" in refused("vote", "create", first, "0x12", "--start", "+10s", "--end", "+60s",
                                           "--from", "owner")
    assert "not the owner" in refused("vote", "create", first, "--start", "+10s", "--end", "+60s", "--from", "alice")
    created = run("vote", "create", first, second, "--start", "+10s", "--end", "+100s", "--from", "owner")
    round_id = str(created["round"])
    assert created["candidates"] == [first, second] and created["winners"] == 1

    def warp(at: int) -> None:
        w3.provider.make_request("evm_setNextBlockTimestamp", [at])
        w3.provider.make_request("evm_mine", [])

    assert run("vote", "status", round_id)["phase"] == "upcoming"
    assert "round not open" in refused("vote", "cast", round_id, first, "10", "--from", "alice")
    warp(created["start"])
    run("vote", "cast", round_id, first, "30", "--from", "alice")
    run("vote", "cast", round_id, second, "20", "--from", "bob")
    assert "already voted" in refused("vote", "cast", round_id, second, "5", "--from", "alice")
    assert "no round 9" in refused("vote", "cast", "9", first, "5", "--from", "alice")
    status = run("vote", "status", round_id, "--user", alice)
    assert status["phase"] == "open" and status["totalLocked"] == str(50 * E18)
    assert status["candidates"] == [{"token": first, "votes": str(30 * E18)}, {"token": second, "votes": str(20 * E18)}]
    assert status["user"] == {"address": alice, "voted": True, "locked": str(30 * E18)}
    assert brs.functions.balanceOf(alice).call() == 70 * E18
    assert "finalize it after that" in refused("vote", "finalize", round_id, "--from", "bob")

    warp(created["end"])
    finalized = run("vote", "finalize", round_id, "--from", "bob")  # anyone
    assert finalized["listed"] == [{"token": first, "votes": str(30 * E18)}]
    assert "already finalized" in refused("vote", "finalize", round_id, "--from", "bob")
    assert run("vote", "status", round_id)["phase"] == "finalized"
    human = bourse("vote", "status", round_id, "--rpc-url", url)
    assert human.returncode == 0 and "finalized" in human.stdout and "30 BRS" in human.stdout
    assert run("vote", "withdraw", round_id, "--from", "alice")["amount"] == str(30 * E18)
    assert brs.functions.balanceOf(alice).call() == 100 * E18
    assert "nothing locked" in refused("vote", "withdraw", round_id, "--from", "alice")
