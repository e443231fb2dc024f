"""`bourse launchpad create|lock|commit|status|claim|finalize`: token sales on the Launchpad, from a keystore
account (the key never leaves it). Amounts and prices are decimal text in whole tokens and BRS; times are unix
seconds or `+<n>s|m|h|d` from now."""

from __future__ import annotations

import re
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from contracts import launchpad as lp
from contracts.predeploy import address_of
from wallet.cli_common import emit, json_option, keystore_option, open_store, password_file_option, rpc_option, unlock
from wallet.errors import WalletError

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _units(text: str, decimals: int, what: str) -> int:
    try:
        value = Decimal(text) * 10**decimals
    except InvalidOperation:
        raise click.BadParameter(f"{what} must be a decimal number, got {text!r}") from None
    if value <= 0 or value != value.to_integral_value():
        raise click.BadParameter(f"{what} must be positive with at most {decimals} decimals, got {text!r}")
    return int(value)


def _time(text: str, now: int) -> int:
    match = re.fullmatch(r"\+(\d+)([smhd])", text.strip())
    if match:
        return now + int(match[1]) * UNITS[match[2]]
    if text.strip().isdigit():
        return int(text)
    raise click.BadParameter(f"a time is unix seconds or +<n>s|m|h|d, got {text!r}")


def _text(units: int, decimals: int = 18) -> str:
    whole, part = divmod(units, 10**decimals)
    return f"{whole}" + (f".{part:0{decimals}d}".rstrip("0") if part else "")


class Chain:
    """The node, the contract a command talks to (the Launchpad by default) and, for transactions, an unlocked
    keystore account."""

    def __init__(self, rpc_url: str, contract: str | None, key: bytes | None = None) -> None:
        from eth_account import Account

        from wallet.rpc import Rpc
        self.rpc = Rpc(rpc_url)
        self.contract = contract or address_of("Launchpad")
        self.key = key
        self.address = Account.from_key(key).address if key else None

    @property
    def launchpad(self) -> str:
        return self.contract

    def call(self, to: str, data: bytes) -> bytes:
        return self.rpc.eth_call(to, data)

    def send(self, to: str, data: bytes) -> dict[str, Any]:
        from wallet.transactions import build_transaction, send_signed, sign_transaction
        assert self.key is not None and self.address is not None
        return send_signed(self.rpc, sign_transaction(build_transaction(self.rpc, self.address, to, 0, data),
                                                      self.key))

    def approve(self, token: str, amount: int) -> None:
        """Let the contract take `amount` of `token` from the account."""
        self.send(token, lp.calldata("approve(address,uint256)", ["address", "uint256"], [self.contract, amount]))

    def decimals(self, token: str) -> int:
        from eth_abi import decode
        return int(decode(["uint8"], self.call(token, lp.calldata("decimals()", [], [])))[0])

    def brs(self) -> str:
        from eth_abi import decode
        from eth_utils import to_checksum_address
        raw = self.call(self.launchpad, lp.calldata("platformToken()", [], []))
        return to_checksum_address(decode(["address"], raw)[0])

    def now(self) -> int:
        return int(self.rpc.call("eth_getBlockByNumber", "latest", False)["timestamp"], 16)


def _chain(rpc_url: str, launchpad: str | None, name: str | None = None, keystore_dir: Path | None = None,
           password_file: Path | None = None) -> Chain:
    key = unlock(open_store(keystore_dir), name, password_file) if name else None
    return Chain(rpc_url, launchpad, key)


def launchpad_option(func: Any) -> Any:
    return click.option("--launchpad", default=None, help="The Launchpad's address (default: the node's "
                                                          "predeployed one).")(func)


def account_option(func: Any) -> Any:
    return click.option("--from", "name", required=True, help="The keystore account that signs.")(func)


def signing_options(func: Any) -> Any:
    """What every command that sends a transaction takes."""
    for option in (json_option, password_file_option, keystore_option, rpc_option, account_option, launchpad_option):
        func = option(func)
    return func


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
@signing_options
def create_command(token: str, price: str, supply: str, cap_ratio: str, hold: tuple[str, str],
                   subscribe: tuple[str, str], claim_time: str, launchpad: str | None, name: str, rpc_url: str,
                   keystore_dir: Path | None, password_file: Path | None, as_json: bool) -> None:
    """Open a sale of TOKEN (the owner of the Launchpad only)."""
    chain = _chain(rpc_url, launchpad, name, keystore_dir, password_file)
    now = chain.now()
    decimals = chain.decimals(token)
    supply_units = _units(supply, decimals, "--supply")
    # price: BRS units per token unit x PRICE_SCALE = BRS per whole token x 10**18 x PRICE_SCALE / 10**decimals
    price_units = _units(price, 18, "--price") * lp.PRICE_SCALE // 10**decimals
    if price_units <= 0:
        raise click.BadParameter("--price is below one BRS unit per token unit")
    times = (_time(hold[0], now), _time(hold[1], now), _time(subscribe[0], now), _time(subscribe[1], now),
             _time(claim_time, now))
    chain.approve(token, supply_units)
    receipt = chain.send(chain.launchpad, lp.create_sale(token, price_units, supply_units,
                                                         _units(cap_ratio, 18, "--cap-ratio"), times))
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
    @signing_options
    def command(sale: int, launchpad: str | None, name: str, rpc_url: str, keystore_dir: Path | None,
                password_file: Path | None, as_json: bool, amount: str | None = None) -> None:
        chain = _chain(rpc_url, launchpad, name, keystore_dir, password_file)
        units = None
        if amount is not None:
            units = _units(amount, 18, "AMOUNT")
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
    lines = [f"sale {sale}: {info.phase(now)}; token {info.token}; supply {_text(info.supply, decimals)}; price "
             f"{_text(info.price * 10**decimals // lp.PRICE_SCALE)} BRS",
             f"locked {_text(info.totalLocked)} BRS, committed {_text(info.totalCommitted)} BRS, "
             f"oversubscribed x{info.oversubscription:.4f}",
             f"raised {_text(info.raised)} BRS (collected {_text(info.collected)}), allocated "
             f"{_text(info.allocated, decimals)}"]
    if user:
        position = lp.read_user(chain.call, chain.launchpad, sale, user)
        data["user"] = {"address": user, **{k: (v if isinstance(v, bool) else str(v)) for k, v in position.items()}}
        lines.append(f"{user}: locked {_text(int(position['locked']))}, committed {_text(int(position['committed']))}"
                     f" of cap {_text(int(position['cap']))}; allocation {_text(int(position['allocation']), decimals)}"
                     f", pays {_text(int(position['payment']))}, refund {_text(int(position['refund']))}"
                     f"{' (claimed)' if position['claimed'] else ''}")
    emit(data, as_json, "\n".join(lines))


@launchpad_group.command("finalize")
@click.argument("sale", type=click.IntRange(min=1))
@signing_options
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
    emit(done, as_json, f"sale {sale}: collected {_text(int(done['raised']))} BRS and "
                        f"{_text(int(done['unsold']), chain.decimals(info.token))} unsold tokens")
