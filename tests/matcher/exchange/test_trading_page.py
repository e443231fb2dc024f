"""The trading page the exchange serves at /trade/, in a real browser (Chromium driven by Playwright): two browser
contexts trade as two dev accounts - deposit, a filter violation shown before sending, a crossing LIMIT order that
fills, the trade and new balances on both pages, the chart gaining a candle, the fill reaching CONFIRMED with its
transaction in the explorer, cancel from the page - and both languages, narrow and wide screens.
Screenshots of each page go to test-artifacts/screenshots/."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from decimal import Decimal
from typing import Any

import pytest

from bourse.stack import Stack

from ...browser import Screens, untranslated

NAMES = {"BRS", "WBNB", "USDT", "Bourse", "English", "LOT_SIZE", "PRICE_FILTER", "NOTIONAL", "MARKET_LOT_SIZE"}


def rpc(url: str, method: str, *params: Any) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())["result"]


def open_page(pages: Any, stack: Stack, account: str | None = None, width: int = 1440) -> Any:
    page = pages(width=width, height=1000)
    page.goto(f"{stack.exchange_url}/trade/#BRSWBNB")
    page.wait_for_selector("main[data-ready]")
    page.wait_for_selector("#trade-rows", state="attached")
    if account is not None:
        page.select_option("#account-select", account)
        page.wait_for_selector("#balance-rows tr")
    return page


def free(page: Any, asset: str) -> Decimal:
    text = page.inner_text(f'#balance-rows tr[data-asset="{asset}"] td:nth-child(2)')
    return Decimal(text)


def deposit(page: Any, asset: str, amount: str) -> None:
    before = free(page, asset)
    page.select_option("#deposit select[name=asset]", asset)
    page.fill("#deposit input[name=amount]", amount)
    page.click("#deposit button")
    page.wait_for_selector("#money-result.ok", timeout=60_000)
    page.wait_for_function(f"""() => {{
        const cell = document.querySelector('#balance-rows tr[data-asset="{asset}"] td:nth-child(2)');
        return cell && Number(cell.textContent) >= {before + Decimal(amount)};
    }}""", timeout=60_000)


def place(page: Any, side: str, kind: str, quantity: str, price: str | None = None) -> None:
    page.click(f"#order .sides button.{side.lower()}")
    page.select_option("#order-type", kind)
    if price is not None:
        page.fill("#order-price", price)
    page.fill("#order-quantity", quantity)
    page.click("#order-submit")


@pytest.fixture(scope="module")
def accounts(stack: Stack) -> list[str]:
    return rpc(stack.rpc_url, "eth_accounts")  # type: ignore[no-any-return]


def test_two_accounts_trade_on_the_page_and_the_fill_settles(stack: Stack, accounts: list[str], pages: Any,
                                                            screens: Screens) -> None:
    seller = open_page(pages, stack, accounts[1])
    buyer = open_page(pages, stack, accounts[2])
    deposit(seller, "BRS", "100")
    deposit(buyer, "WBNB", "1")  # wrapped from the native coin, approved, deposited
    assert seller.get_attribute("#candles", "data-candles") == "0"

    # a filter violation is shown before anything is signed or sent
    requests: list[str] = []
    seller.on("request", lambda r: requests.append(r.url) if r.method == "POST" and "/api/v3/order" in r.url else None)
    place(seller, "SELL", "LIMIT", "0.001", "0.002")
    assert "LOT_SIZE" in seller.inner_text("#order-error") and requests == []
    place(seller, "SELL", "LIMIT", "10", "0.0020001")
    assert "PRICE_FILTER" in seller.inner_text("#order-error") and requests == []
    place(seller, "SELL", "LIMIT", "0.01", "0.001")
    assert "NOTIONAL" in seller.inner_text("#order-error") and requests == []

    place(seller, "SELL", "LIMIT", "10", "0.002")
    seller.wait_for_selector("#order-result:not(:empty)")
    assert len(requests) == 1
    seller.wait_for_selector("#open-orders tbody tr")
    buyer.wait_for_function("document.querySelector('#asks') && document.querySelector('#asks').textContent"
                            ".includes('0.002')")
    screens.shot(seller, "seller-resting")

    place(buyer, "BUY", "LIMIT", "10", "0.002")
    buyer.wait_for_selector("#order-result:not(:empty)")
    for page in (seller, buyer):
        page.wait_for_function("document.querySelector('#trade-rows tr') && "
                               "document.querySelector('#trade-rows tr').textContent.includes('0.002')")
        page.wait_for_function("Number(document.querySelector('#candles').dataset.candles) >= 1")  # a new candle
    seller.wait_for_function("!document.querySelector('#open-orders tbody tr')")
    seller.wait_for_function("Number(document.querySelector('#balance-rows tr[data-asset=\"BRS\"] td:nth-child(2)')"
                             ".textContent) === 90")
    buyer.wait_for_function("Number(document.querySelector('#balance-rows tr[data-asset=\"BRS\"] td:nth-child(2)')"
                            ".textContent) > 9.9")
    assert free(buyer, "WBNB") == Decimal("0.98")  # paid 10 x 0.002

    for page in (seller, buyer):
        page.click("#tab-fills")
        page.wait_for_selector('#fills tr[data-state="CONFIRMED"]', timeout=60_000)
        link = page.get_attribute('#fills tr[data-state="CONFIRMED"] a.tx-link', "href")
        assert link is not None and link.startswith(f"{stack.rpc_url}/explorer/#/tx/0x")
        assert page.get_attribute('#fills tr[data-state="CONFIRMED"] a.block-link', "href").startswith(
            f"{stack.rpc_url}/explorer/#/block/")
    screens.shot(seller, "seller-filled")
    screens.shot(buyer, "buyer-filled")
    explorer = pages()
    explorer.goto(link)
    explorer.wait_for_selector("#tx-status")
    assert explorer.inner_text("#tx-status") == "Success" and "settle" in explorer.inner_text("#input")
    screens.shot(explorer, "settlement-in-explorer")
    assert seller.errors == [] and buyer.errors == []


def test_withdraw_from_the_page(stack: Stack, accounts: list[str], pages: Any, screens: Screens) -> None:
    page = open_page(pages, stack, accounts[3])
    deposit(page, "BRS", "20")
    before = int(rpc(stack.rpc_url, "eth_call", {"to": _brs(stack), "data": "0x70a08231" + accounts[3][2:].lower()
                                                 .rjust(64, "0")}, "latest"), 16)
    page.select_option("#withdraw select[name=asset]", "BRS")
    page.fill("#withdraw input[name=amount]", "7.5")
    page.click("#withdraw button")
    page.wait_for_function("document.querySelector('#money-result').textContent.includes('7.5')")
    page.wait_for_function("Number(document.querySelector('#balance-rows tr[data-asset=\"BRS\"] td:nth-child(2)')"
                           ".textContent) === 12.5")
    page.click("#tab-withdrawals")
    page.wait_for_selector('#withdrawals tr[data-state="CONFIRMED"] a.tx-link', timeout=60_000)
    after = int(rpc(stack.rpc_url, "eth_call", {"to": _brs(stack), "data": "0x70a08231" + accounts[3][2:].lower()
                                                .rjust(64, "0")}, "latest"), 16)
    assert after - before == 7_500_000_000_000_000_000  # paid out on chain
    screens.shot(page, "withdrawn")
    assert page.errors == []


def _brs(stack: Stack) -> str:
    from contracts.predeploy import address_of
    return address_of("PlatformToken")


def test_an_injected_wallet_is_used_when_the_browser_has_one(stack: Stack, accounts: list[str], pages: Any) -> None:
    page = pages()
    # an EIP-1193 provider as MetaMask injects one; this one forwards to the node (account 4 is unlocked there)
    page.add_init_script(f"""window.ethereum = {{
        isMetaMask: true, calls: [],
        async request({{ method, params }}) {{
            this.calls.push(method);
            if (method === "eth_requestAccounts") return ["{accounts[4]}"];
            const response = await fetch("{stack.rpc_url}", {{ method: "POST", headers: {{ "Content-Type":
                "application/json" }}, body: JSON.stringify({{ jsonrpc: "2.0", id: 1, method, params }}) }});
            const reply = await response.json();
            if (reply.error) throw new Error(reply.error.message);
            return reply.result;
        }} }};""")
    page.goto(f"{stack.exchange_url}/trade/#BRSWBNB")
    page.wait_for_selector("main[data-ready]")
    page.select_option("#account-select", "injected")
    page.wait_for_selector("#balance-rows tr")
    deposit(page, "BRS", "2")
    place(page, "SELL", "LIMIT", "1", "0.009")
    page.wait_for_selector("#open-orders tbody tr")
    calls = page.evaluate("window.ethereum.calls")
    assert "eth_requestAccounts" in calls and "eth_signTypedData_v4" in calls and "eth_sendTransaction" in calls


def test_cancel_from_the_page_and_the_order_history(stack: Stack, accounts: list[str], pages: Any,
                                                    screens: Screens) -> None:
    seller = open_page(pages, stack, accounts[1])
    place(seller, "SELL", "LIMIT", "5", "0.003")
    seller.wait_for_selector("#open-orders tbody tr")
    order_id = seller.get_attribute("#open-orders tbody tr", "data-order-id")
    screens.shot(seller, "open-order")
    seller.click(f'#open-orders tr[data-order-id="{order_id}"] button.cancel')
    seller.wait_for_selector(f'#open-orders tr[data-order-id="{order_id}"]', state="detached")
    seller.click("#tab-history")
    seller.wait_for_selector(f'#history-orders tr[data-order-id="{order_id}"]')
    assert seller.inner_text(f'#history-orders tr[data-order-id="{order_id}"]').split("\t")[-1].strip() == "Cancelled"
    assert seller.errors == []


def test_stop_and_market_orders_from_the_page(stack: Stack, accounts: list[str], pages: Any) -> None:
    seller = open_page(pages, stack, accounts[1])
    place(seller, "SELL", "STOP_LOSS_LIMIT", "2", "0.0015")
    assert "stopPrice" in seller.inner_text("#order-error")  # the stop price is still empty
    seller.fill("#order-stop", "0.0016")
    seller.click("#order-submit")
    seller.wait_for_selector("#open-orders tbody tr")
    assert "Stop-limit" in seller.inner_text("#open-orders")
    buyer = open_page(pages, stack, accounts[2])
    place(seller, "SELL", "LIMIT", "1", "0.0025")
    seller.wait_for_selector("#order-result:not(:empty)")
    place(buyer, "BUY", "MARKET", "1")
    buyer.wait_for_function("document.querySelector('#order-result').textContent.includes('Filled')")


def test_the_language_switch_translates_the_trading_page(stack: Stack, accounts: list[str], pages: Any,
                                                         screens: Screens) -> None:
    page = open_page(pages, stack, accounts[1])
    page.select_option("select.language", "zh-CN")
    page.wait_for_function("document.documentElement.lang === 'zh-CN'")
    for tab in ("open", "history", "fills", "withdrawals"):
        page.click(f"#tab-{tab}")
        left = untranslated(page, NAMES)
        assert left == [], f"English left ({tab}): {left}"
    screens.shot(page, "zh")
    page.reload()
    page.wait_for_selector("main[data-ready]")
    assert page.title() == "Bourse 交易"  # remembered


@pytest.mark.parametrize("width", [360, 1920])
def test_the_trading_page_fits_narrow_and_wide_screens(stack: Stack, accounts: list[str], pages: Any,
                                                      screens: Screens, width: int) -> None:
    page = open_page(pages, stack, accounts[1], width=width)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"wider than {width} px by {overflow}"
    screens.shot(page, f"{width}")


def test_the_book_redraws_at_most_ten_times_a_second(stack: Stack, accounts: list[str], pages: Any) -> None:
    from matcher.client import ExchangeClient
    from .conftest import KEYS, fund
    page = open_page(pages, stack)
    maker = ExchangeClient(stack.exchange_url, KEYS["carol"], stack.rpc_url)
    fund(maker, {"BRS": "100"})
    start = page.evaluate("[performance.now(), Number(document.querySelector('#book-body').dataset.renders)]")
    for i in range(40):
        maker.order("BRSWBNB", "SELL", price=f"0.00{40 + i}", quantity="1", time_in_force="GTC")
    with urllib.request.urlopen(f"{stack.exchange_url}/api/v3/depth?symbol=BRSWBNB&limit=5") as response:
        last = json.loads(response.read())["lastUpdateId"]
    page.wait_for_function(f"Number(document.querySelector('#book-body').dataset.updateId) >= {last}")
    end = page.evaluate("[performance.now(), Number(document.querySelector('#book-body').dataset.renders)]")
    renders, elapsed_ms = end[1] - start[1], end[0] - start[0]
    assert 1 <= renders <= elapsed_ms / 100 + 1, (renders, elapsed_ms)


def test_page_assets_are_served_with_types_and_caching(stack: Stack) -> None:
    with urllib.request.urlopen(f"{stack.exchange_url}/trade/") as index:
        assert index.headers["Content-Type"] == "text/html; charset=utf-8"
        assert index.headers["Cache-Control"] == "no-cache" and index.headers["ETag"]
    with urllib.request.urlopen(f"{stack.exchange_url}/trade/common/i18n.js") as script:
        assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    with urllib.request.urlopen(f"{stack.exchange_url}/bourse/v1/web") as config:
        web = json.loads(config.read())
    assert web["rpcUrl"] == stack.rpc_url and web["explorerUrl"] == stack.rpc_url + "/explorer/"


def test_the_page_selectors_are_the_functions_it_names() -> None:
    import re
    from pathlib import Path

    from eth_utils import function_signature_to_4byte_selector

    source = (Path(__file__).resolve().parents[3] / "matcher/exchange/web/balances.js").read_text()
    found = dict(re.findall(r'"([a-zA-Z]+\([a-z0-9,]*\))": "(0x[0-9a-f]{8})"', source))
    assert len(found) == 4
    for signature, selector in found.items():
        assert "0x" + function_signature_to_4byte_selector(signature).hex() == selector, signature


def test_proof_of_reserves_is_verified_in_the_browser(stack: Stack, accounts: list[str], pages: Any,
                                                      screens: Screens, tmp_path: Any) -> None:
    from matcher.client import ExchangeClient
    from wallet.por import build, liabilities_from_ledger, verify_proof, write_tree

    from .conftest import KEYS, fund
    alice = ExchangeClient(stack.exchange_url, KEYS["alice"], stack.rpc_url)
    assert alice.address == accounts[1]
    fund(alice, {"BRS": "3"})
    page = pages()
    page.goto(f"{stack.exchange_url}/trade/por.html")
    page.wait_for_selector("main[data-ready]")
    assert page.inner_text("#root-box") == "No proof of reserves is published here yet."
    tree = build(liabilities_from_ledger(stack.exchange_url, stack.admin_token))
    write_tree(tree, stack.root / "exchange" / "por")  # what `bourse por build --out <data dir>/por` writes
    proof = tree.proofs[accounts[1]]
    expected = verify_proof(proof, tree.root_json())

    page.reload()
    page.wait_for_selector("#root")
    assert tree.root.hash.hex() in page.inner_text("#root")
    page.select_option("#account-select", accounts[1])
    page.click("#load-mine")
    page.wait_for_selector("#verified")
    shown = page.inner_text("#result")
    for asset, amount in expected.items():  # shown in whole units, exactly
        whole, fraction = divmod(amount, 10**18)
        assert f"{whole:,}" + (f".{fraction:018d}".rstrip("0") if fraction else "") in shown, (asset, amount, shown)
    screens.shot(page, "verified")

    tampered = json.loads(json.dumps(proof))
    tampered["leaves"][0]["balances"][0] = str(int(tampered["leaves"][0]["balances"][0]) + 1)
    tampered["balances"][0] = str(int(tampered["balances"][0]) + 1)
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))
    page.set_input_files("#proof-file", str(tmp_path / "tampered.json"))
    page.wait_for_selector("#not-verified")
    assert "root hash" in page.inner_text("#not-verified")
    page.select_option("select.language", "zh-CN")
    page.wait_for_function("document.documentElement.lang === 'zh-CN'")
    assert untranslated(page, NAMES) == []
    screens.shot(page, "not-verified-zh")
    # the proof is private: without the account's signature there is none
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{stack.exchange_url}/bourse/v1/por/proof?address={accounts[1]}")
    assert refused.value.code == 401
