"""`bourse vote create|cast|status|finalize|withdraw`: coin-listing votes on the listing-vote contract, from a
keystore account (the key never leaves it). A round's winners are listed by `Listed(token, round)`, which an
exchange following the contract turns into TOKEN/BRS markets. Amounts are BRS in decimal text; times are unix
seconds or `+<n>s|m|h|d` from now."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from eth_abi import decode
from eth_utils import event_signature_to_log_topic, is_address, to_checksum_address

from contracts import launchpad as lp
from contracts.predeploy import address_of
from wallet.cli_common import emit, json_option, rpc_option
from wallet.errors import WalletError

from .cli_chain import Chain, amount_text, at_time, open_chain, parse_amount, signing_options

LISTED = "0x" + event_signature_to_log_topic("Listed(address,uint256,uint256)").hex()


def _booth(rpc_url: str, contract: str | None, name: str | None = None, keystore_dir: Path | None = None,
           password_file: Path | None = None) -> Chain:
    return open_chain(rpc_url, contract or address_of("ListingVote"), name, keystore_dir, password_file)


def _view(chain: Chain, signature: str, types: list[str], args: list[Any], returns: list[str]) -> Any:
    values = decode(returns, chain.call(chain.contract, lp.calldata(signature, types, args)))
    return values[0] if len(values) == 1 else values


def _round(chain: Chain, round_id: int) -> dict[str, Any]:
    if not 0 < round_id <= _view(chain, "roundCount()", [], [], ["uint256"]):
        raise WalletError(f"there is no round {round_id} on {chain.contract}")
    start, end, winners, finalized, locked = _view(chain, "rounds(uint256)", ["uint256"], [round_id],
                                                   ["uint256", "uint256", "uint256", "bool", "uint256"])
    return {"start": start, "end": end, "winners": winners, "finalized": finalized, "totalLocked": locked}


def _phase(info: dict[str, Any], now: int) -> str:
    if info["finalized"]:
        return "finalized"
    if now < info["start"]:
        return "upcoming"
    return "open" if now < info["end"] else "ended"


def _address(text: str, what: str) -> str:
    if not is_address(text):
        raise click.BadParameter(f"{what} must be an address (0x and 40 hex digits), got {text!r}")
    return to_checksum_address(text)


def vote_option(func: Any) -> Any:
    return click.option("--contract", "contract", default=None,
                        help="The listing-vote contract (default: the node's predeployed one).")(func)


@click.group("vote")
def vote_group() -> None:
    """Coin-listing votes: rounds of candidate tokens, one BRS-weighted vote per address, winners listed."""


@vote_group.command("create")
@click.argument("tokens", nargs=-1, required=True)
@click.option("--start", required=True, help="When voting opens (unix seconds or +<n>s|m|h|d).")
@click.option("--end", required=True, help="When voting closes.")
@click.option("--winners", type=click.IntRange(min=1), default=1, show_default=True,
              help="How many candidates the round lists.")
@signing_options(vote_option)
def create_command(tokens: tuple[str, ...], start: str, end: str, winners: int, contract: str | None, name: str,
                   rpc_url: str, keystore_dir: Path | None, password_file: Path | None, as_json: bool) -> None:
    """Open a round over candidate TOKENS (the contract's owner only)."""
    candidates = [_address(token, "TOKEN") for token in tokens]
    chain = _booth(rpc_url, contract, name, keystore_dir, password_file)
    now = chain.now()
    opens, closes = at_time(start, now), at_time(end, now)
    receipt = chain.send(chain.contract, lp.calldata("createRound(address[],uint256,uint256,uint256)",
                                                      ["address[]", "uint256", "uint256", "uint256"],
                                                      [candidates, opens, closes, winners]))
    round_id = _view(chain, "roundCount()", [], [], ["uint256"])
    emit({"round": round_id, "contract": chain.contract, "start": opens, "end": closes, "winners": winners,
          "candidates": candidates, "transaction": receipt["transactionHash"]}, as_json,
         f"round {round_id} created on {chain.contract}: {len(candidates)} candidates, {winners} listed, voting "
         f"{opens}..{closes} (tx {receipt['transactionHash']})")


@vote_group.command("cast")
@click.argument("round_id", metavar="ROUND", type=click.IntRange(min=1))
@click.argument("token")
@click.argument("amount")
@signing_options(vote_option)
def cast_command(round_id: int, token: str, amount: str, contract: str | None, name: str, rpc_url: str,
                 keystore_dir: Path | None, password_file: Path | None, as_json: bool) -> None:
    """Vote for TOKEN in ROUND with AMOUNT BRS, locked until the round ends (one vote per address and round)."""
    candidate = _address(token, "TOKEN")
    units = parse_amount(amount, 18, "AMOUNT")
    chain = _booth(rpc_url, contract, name, keystore_dir, password_file)
    _round(chain, round_id)
    brs = to_checksum_address(_view(chain, "platformToken()", [], [], ["address"]))
    chain.approve(brs, units)
    receipt = chain.send(chain.contract, lp.calldata("vote(uint256,address,uint256)",
                                                      ["uint256", "address", "uint256"], [round_id, candidate, units]))
    emit({"round": round_id, "token": candidate, "amount": str(units), "transaction": receipt["transactionHash"]},
         as_json, f"voted for {candidate} in round {round_id} with {amount} BRS (tx {receipt['transactionHash']})")


@vote_group.command("finalize")
@click.argument("round_id", metavar="ROUND", type=click.IntRange(min=1))
@signing_options(vote_option)
def finalize_command(round_id: int, contract: str | None, name: str, rpc_url: str, keystore_dir: Path | None,
                     password_file: Path | None, as_json: bool) -> None:
    """After ROUND ends (anyone, once): list its winners, most votes first."""
    chain = _booth(rpc_url, contract, name, keystore_dir, password_file)
    info = _round(chain, round_id)
    if chain.now() < info["end"]:
        raise WalletError(f"round {round_id} is open until {info['end']}: finalize it after that")
    receipt = chain.send(chain.contract, lp.calldata("finalize(uint256)", ["uint256"], [round_id]))
    listed = [{"token": to_checksum_address("0x" + log["topics"][1][-40:]), "votes": str(int(log["data"], 16))}
              for log in receipt.get("logs", []) if log["topics"] and log["topics"][0] == LISTED
              and log["address"].lower() == chain.contract.lower()]
    emit({"round": round_id, "listed": listed, "transaction": receipt["transactionHash"]}, as_json,
         f"round {round_id} finalized: " + (", ".join(f"{x['token']} listed ({amount_text(int(x['votes']))} BRS)"
                                                      for x in listed) or "no candidate had votes"))


@vote_group.command("withdraw")
@click.argument("round_id", metavar="ROUND", type=click.IntRange(min=1))
@signing_options(vote_option)
def withdraw_command(round_id: int, contract: str | None, name: str, rpc_url: str, keystore_dir: Path | None,
                     password_file: Path | None, as_json: bool) -> None:
    """After ROUND ends: take back the BRS locked with your vote."""
    chain = _booth(rpc_url, contract, name, keystore_dir, password_file)
    _round(chain, round_id)
    locked = _view(chain, "lockedBy(uint256,address)", ["uint256", "address"], [round_id, chain.address],
                   ["uint256"])
    receipt = chain.send(chain.contract, lp.calldata("withdraw(uint256)", ["uint256"], [round_id]))
    emit({"round": round_id, "amount": str(locked), "transaction": receipt["transactionHash"]}, as_json,
         f"withdrew {amount_text(locked)} BRS from round {round_id} (tx {receipt['transactionHash']})")


@vote_group.command("status")
@click.argument("round_id", metavar="ROUND", type=click.IntRange(min=1))
@click.option("--user", default=None, help="Also show this address's vote and locked BRS.")
@vote_option
@rpc_option
@json_option
def status_command(round_id: int, user: str | None, contract: str | None, rpc_url: str, as_json: bool) -> None:
    """A round's window, phase and each candidate's votes; with --user, one voter's position."""
    chain = _booth(rpc_url, contract)
    info = _round(chain, round_id)
    phase = _phase(info, chain.now())
    candidates = [to_checksum_address(c) for c in _view(chain, "candidatesOf(uint256)", ["uint256"], [round_id],
                                                        ["address[]"])]
    votes = {c: _view(chain, "votes(uint256,address)", ["uint256", "address"], [round_id, c], ["uint256"])
             for c in candidates}
    data: dict[str, Any] = {"round": round_id, "phase": phase, "start": info["start"], "end": info["end"],
                            "winners": info["winners"], "totalLocked": str(info["totalLocked"]),
                            "candidates": [{"token": c, "votes": str(v)} for c, v in votes.items()]}
    lines = [f"round {round_id}: {phase}; voting {info['start']}..{info['end']}; {info['winners']} listed; "
             f"{amount_text(info['totalLocked'])} BRS locked"]
    lines += [f"  {c}  {amount_text(v)} BRS" for c, v in sorted(votes.items(), key=lambda cv: -cv[1])]
    if user:
        voter = _address(user, "--user")
        locked = _view(chain, "lockedBy(uint256,address)", ["uint256", "address"], [round_id, voter], ["uint256"])
        voted = _view(chain, "voted(uint256,address)", ["uint256", "address"], [round_id, voter], ["bool"])
        data["user"] = {"address": voter, "voted": voted, "locked": str(locked)}
        lines.append(f"{voter}: {'voted' if voted else 'has not voted'}, {amount_text(locked)} BRS locked")
    emit(data, as_json, "\n".join(lines))
