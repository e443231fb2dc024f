"""`bourse launchpad create|lock|commit|status|claim|finalize`: token sales on the Launchpad, from a keystore
account (the key never leaves it). Amounts and prices are decimal text in whole tokens and BRS; times are unix
seconds or `+<n>s|m|h|d` from now."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from contracts import launchpad as lp
from contracts.predeploy import address_of
from wallet.cli_common import emit, json_option, rpc_option
from wallet.errors import WalletError

from .cli_chain import Chain, amount_text, at_time, open_chain, parse_amount, signing_options

def _chain(rpc_url: str, launchpad: str | None, name: str | None = None, keystore_dir: Path | None = None,
           password_file: Path | None = None) -> Chain:
    return open_chain(rpc_url, launchpad or address_of("Launchpad"), name, keystore_dir, password_file)


def launchpad_option(func: Any) -> Any:
    return click.option("--launchpad", default=None, help="The Launchpad's address (default: the node's "
                                                          "predeployed one).")(func)


@click.group("launchpad")
def launchpad_group() -> None:
    """Token sales in Binance Launchpad's format: lock BRS, commit up to your cap, claim tokens and refunds."""


@launchpad_group.command("create")
@click.argument("token")
@click.option("--price", required=True, help="BRS per whole token, e.g. 0.05.")
@click.option("--supply", required=True, help="Whole tokens for sale (the account puts them in).")
@click.option("--cap-ratio", default="1", show_default=True, help="BRS one may commit per BRS locked.")
@click.option("--hold", "hold", nargs=2, required=True, metavar="START END", help="The holding period.")
@click.option("--subscribe", "subscribe", nargs=2, required=True, metavar="START END",
              help="The subscription window (starts at or after the holding period's end).")
@click.option("--claim-time", required=True, help="When claims open (at or after the subscription's end).")
@signing_options(launchpad_option)
def create_command(token: str, price: str, supply: str, cap_ratio: str, hold: tuple[str, str],
                   subscribe: tuple[str, str], claim_time: str, launchpad: str | None, name: str, rpc_url: str,
                   keystore_dir: Path | None, password_file: Path | None, as_json: bool) -> None:
    """Open a sale of TOKEN (the owner of the Launchpad only)."""
    chain = _chain(rpc_url, launchpad, name, keystore_dir, password_file)
    now = chain.now()
    decimals = chain.decimals(token)
    supply_units = parse_amount(supply, decimals, "--supply")
    # price: BRS units per token unit x PRICE_SCALE = BRS per whole token x 10**18 x PRICE_SCALE / 10**decimals
    price_units = parse_amount(price, 18, "--price") * lp.PRICE_SCALE // 10**decimals
    if price_units <= 0:
        raise click.BadParameter("--price is below one BRS unit per token unit")
    times = (at_time(hold[0], now), at_time(hold[1], now), at_time(subscribe[0], now), at_time(subscribe[1], now),
             at_time(claim_time, now))
    chain.approve(token, supply_units)
    receipt = chain.send(chain.launchpad, lp.create_sale(token, price_units, supply_units,
                                                         parse_amount(cap_ratio, 18, "--cap-ratio"), times))
    sale_id = lp.sale_count(chain.call, chain.launchpad)
    emit({"sale": sale_id, "launchpad": chain.launchpad, "transaction": receipt["transactionHash"],
          "times": dict(zip(("holdStart", "holdEnd", "subscribeStart", "subscribeEnd", "claimTime"), times))},
         as_json, f"sale {sale_id} created on {chain.launchpad} (tx {receipt['transactionHash']})")


HELP = {"lock": "Lock AMOUNT BRS in SALE during its holding period (it sets your cap).",
        "commit": "Commit AMOUNT BRS to SALE during its subscription window, up to your cap.",
        "claim": "Claim your tokens, refund and locked BRS from SALE (once, from the claim time)."}


def _sale_action(action: str, with_amount: bool) -> Any:
    @launchpad_group.command(action, help=HELP[action])
    @click.argument("sale", type=click.IntRange(min=1))
    @click.argument("amount", required=with_amount) if with_amount else (lambda f: f)
    @signing_options(launchpad_option)
    def command(sale: int, launchpad: str | None, name: str, rpc_url: str, keystore_dir: Path | None,
                password_file: Path | None, as_json: bool, amount: str | None = None) -> None:
        chain = _chain(rpc_url, launchpad, name, keystore_dir, password_file)
        units = None
        if amount is not None:
            units = parse_amount(amount, 18, "AMOUNT")
            chain.approve(chain.brs(), units)
        receipt = chain.send(chain.launchpad, lp.sale_call(action, sale, units))
        emit({"sale": sale, "action": action, "amount": None if units is None else str(units),
              "transaction": receipt["transactionHash"]}, as_json,
             f"{action}{' ' + amount + ' BRS' if amount else ''} on sale {sale} (tx {receipt['transactionHash']})")

    return command


for _action, _amount in (("lock", True), ("commit", True), ("claim", False)):
    _sale_action(_action, _amount)


@launchpad_group.command("status")
@click.argument("sale", type=click.IntRange(min=1))
@click.option("--user", default=None, help="Also show this address's lock, commitment, cap and allocation.")
@launchpad_option
@rpc_option
@json_option
def status_command(sale: int, user: str | None, launchpad: str | None, rpc_url: str, as_json: bool) -> None:
    """A sale's windows, totals and live oversubscription; with --user, one user's position."""
    chain = _chain(rpc_url, launchpad)
    if sale > lp.sale_count(chain.call, chain.launchpad):
        raise WalletError(f"there is no sale {sale} on {chain.launchpad}")
    info = lp.read_sale(chain.call, chain.launchpad, sale)
    now = chain.now()
    decimals = chain.decimals(info.token)
    data: dict[str, Any] = {"sale": sale, "phase": info.phase(now), **info.as_json(),
                            "oversubscription": round(info.oversubscription, 6),
                            "unsold": str(lp.unsold(chain.call, chain.launchpad, sale))}
    lines = [f"sale {sale}: {info.phase(now)}; token {info.token}; supply {amount_text(info.supply, decimals)}; price "
             f"{amount_text(info.price * 10**decimals // lp.PRICE_SCALE)} BRS",
             f"locked {amount_text(info.totalLocked)} BRS, committed {amount_text(info.totalCommitted)} BRS, "
             f"oversubscribed x{info.oversubscription:.4f}",
             f"raised {amount_text(info.raised)} BRS (collected {amount_text(info.collected)}), allocated "
             f"{amount_text(info.allocated, decimals)}"]
    if user:
        position = lp.read_user(chain.call, chain.launchpad, sale, user)
        data["user"] = {"address": user, **{k: (v if isinstance(v, bool) else str(v)) for k, v in position.items()}}
        lines.append(f"{user}: locked {amount_text(int(position['locked']))}, committed {amount_text(int(position['committed']))}"
                     f" of cap {amount_text(int(position['cap']))}; allocation {amount_text(int(position['allocation']), decimals)}"
                     f", pays {amount_text(int(position['payment']))}, refund {amount_text(int(position['refund']))}"
                     f"{' (claimed)' if position['claimed'] else ''}")
    emit(data, as_json, "\n".join(lines))


@launchpad_group.command("finalize")
@click.argument("sale", type=click.IntRange(min=1))
@signing_options(launchpad_option)
def finalize_command(sale: int, launchpad: str | None, name: str, rpc_url: str, keystore_dir: Path | None,
                     password_file: Path | None, as_json: bool) -> None:
    """The owner collects the BRS raised so far and the tokens left unsold (run again after later claims)."""
    chain = _chain(rpc_url, launchpad, name, keystore_dir, password_file)
    info = lp.read_sale(chain.call, chain.launchpad, sale)
    if chain.now() < info.claimTime:
        raise WalletError(f"sale {sale} opens claims at {info.claimTime} ({info.claimTime - int(time.time())} s "
                          "from now by this clock): nothing to finalize before")
    done: dict[str, Any] = {"sale": sale, "raised": "0", "unsold": "0", "transactions": []}
    if info.raised > info.collected:
        done["transactions"].append(chain.send(chain.launchpad, lp.sale_call("collectRaised", sale))
                                    ["transactionHash"])
        done["raised"] = str(info.raised - info.collected)
    left = lp.unsold(chain.call, chain.launchpad, sale)
    if left:
        done["transactions"].append(chain.send(chain.launchpad, lp.sale_call("withdrawUnsold", sale))
                                    ["transactionHash"])
        done["unsold"] = str(left)
    emit(done, as_json, f"sale {sale}: collected {amount_text(int(done['raised']))} BRS and "
                        f"{amount_text(int(done['unsold']), chain.decimals(info.token))} unsold tokens")
