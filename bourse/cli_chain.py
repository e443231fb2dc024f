"""What `bourse launchpad` and `bourse vote` share: decimal amounts and times from the command line, and the node
with the contract a command talks to and, for transactions, an unlocked keystore account."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from contracts import launchpad as lp
from wallet.cli_common import json_option, keystore_option, open_store, password_file_option, rpc_option, unlock

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_amount(text: str, decimals: int, what: str) -> int:
    try:
        value = Decimal(text) * 10**decimals
    except InvalidOperation:
        raise click.BadParameter(f"{what} must be a decimal number, got {text!r}") from None
    if value <= 0 or value != value.to_integral_value():
        raise click.BadParameter(f"{what} must be positive with at most {decimals} decimals, got {text!r}")
    return int(value)


def at_time(text: str, now: int) -> int:
    match = re.fullmatch(r"\+(\d+)([smhd])", text.strip())
    if match:
        return now + int(match[1]) * UNITS[match[2]]
    if text.strip().isdigit():
        return int(text)
    raise click.BadParameter(f"a time is unix seconds or +<n>s|m|h|d, got {text!r}")


def amount_text(units: int, decimals: int = 18) -> str:
    whole, part = divmod(units, 10**decimals)
    return f"{whole}" + (f".{part:0{decimals}d}".rstrip("0") if part else "")


class Chain:
    """The node, the contract a command talks to and, for transactions, an unlocked keystore account."""

    def __init__(self, rpc_url: str, contract: str, key: bytes | None = None) -> None:
        from eth_account import Account

        from wallet.rpc import Rpc
        self.rpc = Rpc(rpc_url)
        self.contract = contract
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


def account_option(func: Any) -> Any:
    return click.option("--from", "name", required=True, help="The keystore account that signs.")(func)


def signing_options(contract_option: Any) -> Any:
    """What every command that sends a transaction takes, with the option naming its contract."""
    def apply(func: Any) -> Any:
        for option in (json_option, password_file_option, keystore_option, rpc_option, account_option,
                       contract_option):
            func = option(func)
        return func
    return apply


def open_chain(rpc_url: str, contract: str, name: str | None = None, keystore_dir: Path | None = None,
               password_file: Path | None = None) -> Chain:
    """The chain, with `name`'s key unlocked from the keystore when a command sends transactions."""
    key = unlock(open_store(keystore_dir), name, password_file) if name else None
    return Chain(rpc_url, contract, key)
