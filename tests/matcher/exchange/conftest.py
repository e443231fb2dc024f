from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector

from matcher.client import ExchangeClient
from matcher.exchange.units import parse_units
from bourse.stack import Stack
from wallet.rpc import Rpc
from wallet.transactions import build_transaction, send_signed, sign_transaction

# dev accounts 1..4 (public test keys), funded with BRS and USDT by the demo stack
KEYS = {
    "alice": "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "bob": "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "carol": "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "dave": "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
}


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def send_call(rpc_url: str, key: str, to: str, signature: str, types: list[str], args: list[Any],
              value: int = 0) -> dict[str, Any]:
    rpc = Rpc(rpc_url)
    data = function_signature_to_4byte_selector(signature) + encode(types, args)
    from eth_account import Account
    sender = Account.from_key(key).address
    return send_signed(rpc, sign_transaction(build_transaction(rpc, sender, to, value, data),
                                             bytes.fromhex(key[2:])))


def wrap(client: ExchangeClient, amount: int) -> None:
    wbnb = client.market("BRSWBNB")["quoteToken"]
    send_call(client.rpc_url, "0x" + client.key.hex(), wbnb, "deposit()", [], [], value=amount)  # type: ignore[union-attr]


def fund(client: ExchangeClient, deposits: dict[str, str]) -> None:
    """Deposit into the vault and wait until the exchange has credited it."""
    before = client.balances()
    for asset, amount in deposits.items():
        if asset == "WBNB":
            wrap(client, parse_units(amount, 18, "amount"))
        client.deposit(asset, amount)
    wait_until(lambda: all(client.balances().get(a, (0, 0))[0] > before.get(a, (0, 0))[0] for a in deposits),
               what=f"deposits of {client.address}")


def settled(client: ExchangeClient, symbol: str) -> bool:
    return all(t["settlement"] in ("CONFIRMED", "FAILED") for t in client.my_trades(symbol))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(Path(tmp_path_factory.mktemp("stack")), batch_interval=0.2).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def clients(stack: Stack) -> dict[str, ExchangeClient]:
    return {name: ExchangeClient(stack.exchange_url, key, stack.rpc_url) for name, key in KEYS.items()}
