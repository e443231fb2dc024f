"""A trading script against `bourse up`: two demo traders deposit, trade, watch settlement, withdraw.

    python -m matcher.examples.trade --exchange http://127.0.0.1:8080 --rpc-url http://127.0.0.1:8545
"""

from __future__ import annotations

import argparse
import time

from eth_utils import function_signature_to_4byte_selector

from matcher.client import ExchangeClient

# anvil's / hardhat's dev accounts 1 and 2: public test keys, funded by `bourse up`
ALICE = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
BOB = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"


def wrap_native(client: ExchangeClient, amount_wei: int) -> None:
    """WBNB is the quote asset: wrap some of the native coin first."""
    from wallet.rpc import Rpc
    from wallet.transactions import build_transaction, send_signed, sign_transaction
    rpc = Rpc(client.rpc_url)
    wbnb = client.market("BRSWBNB")["quoteToken"]
    data = function_signature_to_4byte_selector("deposit()")
    send_signed(rpc, sign_transaction(build_transaction(rpc, client.address, wbnb, amount_wei, data), client.key))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exchange", default="http://127.0.0.1:8080", help="The exchange's base URL.")
    parser.add_argument("--rpc-url", default="http://127.0.0.1:8545", help="The node's JSON-RPC URL.")
    args = parser.parse_args()
    from matcher.errors import MatcherError
    from wallet.errors import WalletError
    try:
        trade(args.exchange, args.rpc_url)
    except (MatcherError, WalletError) as exc:
        raise SystemExit(f"error: {exc}") from None
    except KeyboardInterrupt:
        raise SystemExit("error: interrupted") from None


def trade(exchange: str, rpc_url: str) -> None:
    """Two demo traders, end to end: deposit, trade, settle on chain, withdraw."""
    alice = ExchangeClient(exchange, ALICE, rpc_url)
    bob = ExchangeClient(exchange, BOB, rpc_url)

    print("alice deposits 1,000 BRS; bob wraps and deposits 10 WBNB")
    alice.deposit("BRS", "1000")
    wrap_native(bob, 10 * 10**18)
    bob.deposit("WBNB", "10")
    deadline = time.time() + 30
    while bob.balances().get("WBNB", (0, 0))[0] < 10 * 10**18 or alice.balances().get("BRS", (0, 0))[0] == 0:
        if time.time() > deadline:
            raise SystemExit("deposits did not arrive")
        time.sleep(0.2)

    sell = alice.order("BRSWBNB", "SELL", "LIMIT", quantity="100", price="0.002", time_in_force="GTC")
    print(f"alice sells 100 BRS at 0.002: order {sell['orderId']} {sell['status']}")
    buy = bob.order("BRSWBNB", "BUY", "MARKET", quantity="40")
    print(f"bob buys 40 BRS at market: {buy['status']}, fills {buy['fills']}")
    maker = bob.order("BRSWBNB", "BUY", "LIMIT_MAKER", quantity="10", price="0.0015")
    print(f"bob rests a post-only bid: order {maker['orderId']} {maker['status']}")
    print("book:", alice.depth("BRSWBNB"))

    while any(t["settlement"] != "CONFIRMED" for t in bob.my_trades("BRSWBNB")):
        time.sleep(0.2)
    print("settled on chain:", [(t["id"], t["settlement"], t["txHash"]) for t in bob.my_trades("BRSWBNB")])
    bob.cancel("BRSWBNB", order_id=maker["orderId"])
    print("bob withdraws 39 BRS (40 less the taker fee leaves 39.92):", bob.withdraw("BRS", "39"))


if __name__ == "__main__":
    main()
