"""Platform steps the end-to-end tests share: a project's token (any symbol and decimals) and a listing-vote round
on the predeployed contract, over web3 against a running node."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import vyper

from contracts.deploy import at
from contracts.predeploy import address_of

TOKEN_SOURCE = Path(__file__).with_name("listed_token.vy")


def send(w3: Any, call: Any, sender: str) -> Any:
    receipt = w3.eth.wait_for_transaction_receipt(call.transact({"from": sender}))
    assert receipt["status"] == 1, receipt
    return receipt


def deploy_token(w3: Any, symbol: str, decimals: int, supply: int) -> Any:
    """A plain ERC-20 minted to dev account 0."""
    out = vyper.compile_code(TOKEN_SOURCE.read_text(), output_formats=["abi", "bytecode"])
    factory = w3.eth.contract(abi=out["abi"], bytecode=out["bytecode"])
    receipt = send(w3, factory.constructor(f"{symbol} project", symbol, decimals, supply), w3.eth.accounts[0])
    return w3.eth.contract(address=receipt["contractAddress"], abi=out["abi"])


def warp(w3: Any, timestamp: int) -> None:
    w3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])
    w3.provider.make_request("evm_mine", [])


def now(w3: Any) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


def run_round(w3: Any, candidates: list[str], votes: dict[str, tuple[str, int]], winners: int = 1) -> Any:
    """Open a round on the predeployed listing vote (dev account 0 owns it), cast `votes` (voter -> (token, BRS
    locked)), let it end and finalize it; the finalize receipt."""
    booth, brs = at(w3, "ListingVote", address_of("ListingVote")), at(w3, "PlatformToken", address_of("PlatformToken"))
    owner = w3.eth.accounts[0]
    start = now(w3) + 5
    receipt = send(w3, booth.functions.createRound(candidates, start, start + 60, winners), owner)
    round_id = booth.events.RoundCreated().process_receipt(receipt)[0].args.roundId
    warp(w3, start)
    for voter, (token, amount) in votes.items():
        send(w3, brs.functions.approve(booth.address, amount), voter)
        send(w3, booth.functions.vote(round_id, token, amount), voter)
    warp(w3, start + 60)
    return send(w3, booth.functions.finalize(round_id), owner)
