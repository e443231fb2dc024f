"""`bourse rewards epoch|status|claim`: trade mining - close an epoch (the operator), list epochs, and claim an
account's rewards on the distributor with the proofs the exchange gives (from a keystore account)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from wallet.cli_common import emit, json_option, keystore_option, open_store, password_file_option, rpc_option, unlock

from .cli_burn import exchange_request
from .errors import MatcherError

EXCHANGE_DEFAULT = "http://127.0.0.1:8080"


def exchange_option(func: Any) -> Any:
    return click.option("--exchange", "exchange_url", default=EXCHANGE_DEFAULT, show_default=True,
                        help="The exchange's base URL.")(func)


@click.group("rewards")
def rewards_group() -> None:
    """Trade mining: rewards in BRS split by the fees each account paid, claimed with a Merkle proof."""


@rewards_group.command("epoch")
@exchange_option
@click.option("--admin-token-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The exchange's admin.token (in its data dir; else $BOURSE_ADMIN_TOKEN).")
@click.option("--timeout", type=click.FloatRange(min=0), default=120.0, show_default=True,
              help="Seconds to wait for the root to be published on chain.")
@json_option
def epoch_command(exchange_url: str, admin_token_file: Path | None, timeout: float, as_json: bool) -> None:
    """Close a trade-mining epoch now (the fills settled since the last one) and wait for its root on chain."""
    from wallet.files import read_token
    base = exchange_url.rstrip("/")
    closed = exchange_request(base + "/admin/rewards/epoch", "POST", read_token(admin_token_file))
    if "epoch" not in closed:
        emit(closed, as_json, "nothing to reward: no fee was paid in fills settled since the last epoch")
        return
    deadline = time.monotonic() + timeout
    epoch = closed
    while epoch["state"] not in ("CONFIRMED", "FAILED"):
        if time.monotonic() > deadline:
            raise MatcherError(f"epoch {closed['epoch']} is still {epoch['state']} after {timeout:g} s")
        time.sleep(0.5)
        epoch = next(e for e in exchange_request(base + "/bourse/v1/rewards") if e["epoch"] == closed["epoch"])
    emit(epoch, as_json, f"epoch {epoch['epoch']}: {epoch['total']} of {epoch['reward']} BRS units to "
                         f"{epoch['accounts']} accounts, root {epoch['root']} {epoch['state']}")
    if epoch["state"] == "FAILED":
        raise MatcherError(f"epoch {epoch['epoch']} could not be published: {epoch['reason']}")


@rewards_group.command("status")
@exchange_option
@json_option
def status_command(exchange_url: str, as_json: bool) -> None:
    """Every trade-mining epoch: fills covered, reward, root, state."""
    epochs = exchange_request(exchange_url.rstrip("/") + "/bourse/v1/rewards")
    emit(epochs, as_json, "\n".join(f"epoch {e['epoch']}: trades {e['fromTrade'] + 1}-{e['toTrade']}, {e['total']} "
                                    f"BRS units to {e['accounts']} accounts, {e['state']}" for e in epochs)
         or "no epochs yet")


@rewards_group.command("claim")
@click.argument("name")
@exchange_option
@rpc_option
@keystore_option
@password_file_option
@json_option
def claim_command(name: str, exchange_url: str, rpc_url: str, keystore_dir: Path | None,
                  password_file: Path | None, as_json: bool) -> None:
    """Claim every unclaimed trade-mining reward of the keystore account NAME."""
    from eth_abi import decode, encode
    from eth_account import Account
    from eth_utils import function_signature_to_4byte_selector as selector

    from wallet.rpc import Rpc
    from wallet.transactions import build_transaction, send_signed, sign_transaction
    key = unlock(open_store(keystore_dir), name, password_file)
    account = Account.from_key(key).address
    rpc = Rpc(rpc_url)
    proofs = exchange_request(exchange_url.rstrip("/") + f"/bourse/v1/rewards/proof?address={account}")
    done = []
    for item in proofs:
        distributor = item["distributor"]
        claimed = decode(["bool"], rpc.eth_call(distributor, selector("claimed(uint256,address)") + encode(
            ["uint256", "address"], [item["epoch"], account])))[0]
        if claimed:
            continue
        data = selector("claim(uint256,address,uint256,bytes32[])") + encode(
            ["uint256", "address", "uint256", "bytes32[]"],
            [item["epoch"], account, int(item["amount"]), [bytes.fromhex(p[2:]) for p in item["proof"]]])
        receipt = send_signed(rpc, sign_transaction(build_transaction(rpc, account, distributor, 0, data), key))
        done.append({"epoch": item["epoch"], "amount": item["amount"], "transaction": receipt["transactionHash"]})
    emit(done, as_json, "\n".join(f"epoch {d['epoch']}: claimed {d['amount']} BRS units (tx {d['transaction']})"
                                  for d in done) or "nothing to claim")
