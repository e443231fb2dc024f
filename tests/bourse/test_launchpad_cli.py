"""`bourse launchpad`: a sale run from the command line against the node's predeployed Launchpad - create, lock,
commit, status with the live oversubscription, claim, finalize - with keystore accounts, --json, and one-line
errors for a step outside its window."""

from __future__ import annotations

from pathlib import Path

from web3 import Web3

from chain import Node
from chain.server import ServerThread
from contracts.deploy import deploy, platform

from .cli_session import CliSession

E18 = 10**18


def test_a_sale_from_the_command_line(http_node: tuple[Node, ServerThread], tmp_path: Path) -> None:
    node, server = http_node
    url = server.url
    w3 = Web3(Web3.HTTPProvider(url))
    cli = CliSession(url, tmp_path, dict(zip(["owner", "alice", "bob"], node.accounts)))
    run, bourse, common = cli.run, cli.bourse, cli.keystore
    owner, alice, bob = (a.checksum for a in node.accounts[:3])
    brs = platform(w3)["PlatformToken"]
    for user in (alice, bob):
        w3.eth.wait_for_transaction_receipt(brs.functions.transfer(user, 1000 * E18).transact({"from": owner}))
    project = deploy(w3, "PlatformToken", "Project", "PRJ", 10**9 * E18)

    created = run("launchpad", "create", project.address, "--price", "0.5", "--supply", "1000", "--cap-ratio", "2",
                  "--hold", "+10s", "+100s", "--subscribe", "+100s", "+200s", "--claim-time", "+300s", "--from",
                  "owner")
    sale = str(created["sale"])
    times = created["times"]

    def warp(at: int) -> None:
        w3.provider.make_request("evm_setNextBlockTimestamp", [at])
        w3.provider.make_request("evm_mine", [])

    status = run("launchpad", "status", sale)
    assert status["phase"] == "upcoming" and status["supply"] == str(1000 * E18)
    early = bourse("launchpad", "lock", sale, "10", "--from", "alice", "--rpc-url", url, *common)
    assert early.returncode == 1 and early.stderr.count("\n") == 1 and "not in the holding period" in early.stderr

    warp(times["holdStart"])
    run("launchpad", "lock", sale, "100", "--from", "alice")
    run("launchpad", "lock", sale, "50", "--from", "bob")
    warp(times["subscribeStart"])
    run("launchpad", "commit", sale, "200", "--from", "alice")
    run("launchpad", "commit", sale, "100", "--from", "bob")
    over = bourse("launchpad", "commit", sale, "1", "--from", "bob", "--rpc-url", url, *common)
    assert over.returncode == 1 and "above your cap" in over.stderr
    status = run("launchpad", "status", sale, "--user", alice)
    assert status["phase"] == "subscribing" and status["oversubscription"] == 0.6  # 300 BRS buys 600 of 1000
    assert status["user"]["cap"] == str(200 * E18) and status["user"]["allocation"] == str(400 * E18)
    human = bourse("launchpad", "status", sale, "--rpc-url", url)
    assert human.returncode == 0 and "oversubscribed x0.6000" in human.stdout

    warp(times["claimTime"])
    run("launchpad", "claim", sale, "--from", "alice")
    assert project.functions.balanceOf(alice).call() == 400 * E18
    assert brs.functions.balanceOf(alice).call() == 1000 * E18 - 200 * E18  # paid 200, its 100 locked came back
    again = bourse("launchpad", "claim", sale, "--from", "alice", "--rpc-url", url, *common)
    assert again.returncode == 1 and "already claimed" in again.stderr
    final = run("launchpad", "finalize", sale, "--from", "owner")
    assert final["raised"] == str(200 * E18) and final["unsold"] == str(400 * E18)  # 1000 - the 600 reserved
    run("launchpad", "claim", sale, "--from", "bob")
    final = run("launchpad", "finalize", sale, "--from", "owner")
    assert final["raised"] == str(100 * E18) and final["unsold"] == "0"
    status = run("launchpad", "status", sale, "--user", bob)
    assert status["phase"] == "claiming" and status["user"]["claimed"] is True
    assert status["raised"] == str(300 * E18) and status["allocated"] == str(600 * E18)
