"""The block explorer `bourse node` serves at /explorer/, in a real browser (Chromium driven by Playwright): live
blocks and transactions, decoded calls, logs and revert reasons, the dev panel behind confirmations, search, both
languages, and layouts from 360 px to 1920 px. Screenshots of each page go to test-artifacts/screenshots/."""

from __future__ import annotations

import json
import socket
import urllib.request
from typing import Any

import pytest
from eth_abi import encode

from chain import Node
from chain.hashing import keccak
from contracts.predeploy import PREDEPLOYS

from ..browser import Screens, untranslated
from .conftest import rpc

TOKEN = next(p.address for p in PREDEPLOYS if p.name == "PlatformToken")
# what may stay Latin on the Chinese page: units and names that are data, not language
NAMES = {"BNB", "ETH", "gwei", "BRS", "WBNB", "Bourse", "English", "ABI", "CALL", "CREATE", "PlatformToken", "artifacts",
         "bourse_registerArtifact"}


def call(url: str, method: str, *params: Any) -> Any:
    reply = rpc(url, method, list(params))
    assert "error" not in reply, reply
    return reply["result"]


def send_transfer(url: str, sender: str, receiver: str, amount: int, gas: int | None = None) -> str:
    data = keccak(b"transfer(address,uint256)")[:4] + encode(["address", "uint256"], [receiver, amount])
    tx: dict[str, Any] = {"from": sender, "to": TOKEN, "data": "0x" + data.hex()}
    if gas is not None:
        tx["gas"] = hex(gas)
    return call(url, "eth_sendTransaction", tx)  # type: ignore[no-any-return]


def open_explorer(new_page: Any, url: str, route: str = "#/", width: int = 1280) -> Any:
    page = new_page(width=width)
    page.goto(f"{url}/explorer/{route}")
    page.wait_for_selector(f'main[data-ready="{route}"]')
    return page


def test_the_home_page_shows_a_new_transaction_without_a_reload(node: Node, url: str, pages: Any,
                                                                 screens: Screens) -> None:
    page = open_explorer(pages, url)
    assert page.inner_text("#mining-mode") == "Automatic (a block per transaction)"
    owner, receiver = call(url, "eth_accounts")[:2]
    head = int(call(url, "eth_blockNumber"), 16)
    assert page.inner_text("#head-number") == f"{head:,}"
    tx = call(url, "eth_sendTransaction", {"from": owner, "to": receiver, "value": hex(10**18)})
    page.wait_for_selector(f'#home-txs tr[data-hash="{tx}"]', timeout=2_000)  # pushed by newHeads
    assert page.inner_text("#head-number") == f"{head + 1:,}"
    screens.shot(page, "home")
    assert page.errors == []


def test_a_transaction_page_shows_the_decoded_call_logs_and_revert_reason(url: str, pages: Any,
                                                                          screens: Screens) -> None:
    owner, receiver, _, stranger = call(url, "eth_accounts")[:4]
    ok = send_transfer(url, owner, receiver, 7 * 10**18)
    page = open_explorer(pages, url, f"#/tx/{ok}")
    assert page.inner_text("#tx-status") == "Success"
    assert "transfer(address,uint256)" in page.inner_text("#input")
    assert "7000000000000000000" in page.inner_text("#input")
    logs = page.inner_text("#logs")
    assert "Transfer(address,address,uint256)" in logs and "PlatformToken" in logs
    assert "PlatformToken" in page.inner_text("#trace") and "transfer" in page.inner_text("#trace")
    screens.shot(page, "transaction")

    failed = send_transfer(url, stranger, receiver, 1, gas=200_000)  # holds no BRS
    page.goto(f"{url}/explorer/#/tx/{failed}")
    page.wait_for_selector(f'main[data-ready="#/tx/{failed}"]')
    assert page.inner_text("#tx-status") == "Failed"
    assert "balance" in page.inner_text("#revert")
    screens.shot(page, "transaction-reverted")
    assert page.errors == []


def test_search_finds_blocks_transactions_and_addresses(url: str, pages: Any, screens: Screens) -> None:
    owner, receiver = call(url, "eth_accounts")[:2]
    tx = send_transfer(url, owner, receiver, 3 * 10**18)
    receipt = call(url, "eth_getTransactionReceipt", tx)
    page = open_explorer(pages, url)

    def search(text: str, route: str) -> None:
        page.fill("#search input", text)
        page.press("#search input", "Enter")
        page.wait_for_selector(f'main[data-ready="{route}"]')

    search(str(int(receipt["blockNumber"], 16)), f"#/block/{int(receipt['blockNumber'], 16)}")
    assert tx[:10] in page.inner_text("main")
    screens.shot(page, "block")
    search(receipt["blockHash"], f"#/block/{receipt['blockHash']}")
    search(tx, f"#/tx/{tx}")
    search(owner, f"#/address/{owner}")  # the sender: the address index lists its transactions
    assert "BRS" in page.inner_text("#token-balances")
    page.wait_for_selector(f'#address-txs a[href="#/tx/{tx}"]')
    screens.shot(page, "address")
    search(TOKEN, f"#/address/{TOKEN}")
    assert "PlatformToken" in page.inner_text("#code")  # its verified source
    page.fill("#search input", "not a thing")
    page.press("#search input", "Enter")
    page.wait_for_selector("main p.error")
    assert page.errors == []


def test_the_dev_panel_acts_only_after_confirmation(url: str, pages: Any, screens: Screens) -> None:
    page = open_explorer(pages, url, "#/dev")
    screens.shot(page, "dev")
    head = int(call(url, "eth_blockNumber"), 16)
    page.click("#dev-mine button")
    page.wait_for_selector("dialog.confirm[open]")
    screens.shot(page, "dev-confirm")
    page.keyboard.press("Escape")  # cancelled: nothing happens
    page.wait_for_selector("dialog.confirm", state="detached")
    assert int(call(url, "eth_blockNumber"), 16) == head
    page.click("#dev-mine button")
    page.click("dialog.confirm button[value=ok]")
    page.wait_for_selector("#dev-result .ok")
    assert int(call(url, "eth_blockNumber"), 16) == head + 1

    target = "0x" + "ab" * 20
    page.fill("#dev-balance input[name=address]", target)
    page.fill("#dev-balance input[name=amount]", "12.5")
    page.click("#dev-balance button")
    page.click("dialog.confirm button[value=ok]")
    page.wait_for_function("document.querySelector('#dev-result').textContent.includes('0xabab')")
    assert int(call(url, "eth_getBalance", target, "latest"), 16) == 12_500_000_000_000_000_000

    page.click("#dev-snapshot button")
    page.click("dialog.confirm button[value=ok]")
    page.wait_for_selector("#snapshots li")
    snapshot = page.inner_text("#snapshots li")
    call(url, "evm_mine")
    page.fill("#dev-revert input[name=id]", snapshot)
    page.click("#dev-revert button")
    page.click("dialog.confirm button[value=ok]")
    page.wait_for_function("document.querySelector('#dev-result').textContent.includes('Reverted')")
    assert int(call(url, "eth_blockNumber"), 16) == head + 1

    page.fill("#dev-time input[name=seconds]", "3600")
    before = int(call(url, "eth_getBlockByNumber", "latest", False)["timestamp"], 16)
    page.click("#dev-time button")
    page.click("dialog.confirm button[value=ok]")
    page.wait_for_function("document.querySelector('#dev-result').textContent.includes('3600')")
    assert int(call(url, "eth_getBlockByNumber", "latest", False)["timestamp"], 16) >= before + 3600

    page.fill("#dev-impersonate input[name=address]", target)
    page.click("#dev-impersonate button")
    page.click("dialog.confirm button[value=ok]")
    page.wait_for_function("document.querySelector('#dev-result').textContent.includes('0xabab')")
    call(url, "eth_sendTransaction", {"from": target, "to": target, "value": "0x1"})  # accepted unsigned
    assert page.errors == []


def test_the_language_switch_translates_every_visible_string_and_is_remembered(url: str, pages: Any,
                                                                                screens: Screens) -> None:
    owner, receiver = call(url, "eth_accounts")[:2]
    tx = send_transfer(url, owner, receiver, 10**18)
    page = open_explorer(pages, url)
    page.select_option("select.language", "zh-CN")
    page.wait_for_function("document.documentElement.lang === 'zh-CN'")
    for route in ("#/", f"#/tx/{tx}", f"#/address/{owner}", "#/dev", f"#/block/{int(call(url, 'eth_blockNumber'), 16)}"):
        page.goto(f"{url}/explorer/{route}")
        page.wait_for_selector(f'main[data-ready="{route}"]')
        left = untranslated(page, NAMES)
        assert left == [], f"English left on {route}: {left}"
        screens.shot(page, "zh-" + (route.strip("#/").split("/")[0] or "home"))
    page.reload()
    page.wait_for_selector("main[data-ready]")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"  # remembered
    assert page.input_value("select.language") == "zh-CN"
    assert page.title() == "Bourse 区块浏览器"
    page.select_option("select.language", "en")
    page.wait_for_function("document.title === 'Bourse explorer'")
    assert page.errors == []


@pytest.mark.parametrize("width", [360, 1920])
def test_pages_fit_narrow_and_wide_screens(url: str, pages: Any, screens: Screens, width: int) -> None:
    owner = call(url, "eth_accounts")[0]
    for route in ("#/", f"#/address/{owner}", "#/dev"):
        page = open_explorer(pages, url, route, width=width)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{route} is wider than {width} px by {overflow}"
        screens.shot(page, f"{width}-{route.strip('#/').split('/')[0] or 'home'}")


def test_assets_have_content_types_and_caching_headers_and_rpc_is_unchanged(url: str) -> None:
    def get(path: str, headers: dict[str, str] | None = None) -> Any:
        return urllib.request.urlopen(urllib.request.Request(url + path, headers=headers or {}))

    index = get("/explorer/")
    assert index.headers["Content-Type"] == "text/html; charset=utf-8" and index.headers["Cache-Control"] == "no-cache"
    script = get("/explorer/app.js")
    assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert script.headers["X-Content-Type-Options"] == "nosniff"
    assert get("/explorer/common/base.css").headers["Content-Type"] == "text/css; charset=utf-8"
    catalogue = get("/explorer/common/messages/zh-CN.json")
    assert catalogue.headers["Content-Type"] == "application/json" and "explorer.title" in json.loads(catalogue.read())
    try:
        get("/explorer/app.js", {"If-None-Match": script.headers["ETag"]})
        raise AssertionError("expected 304")
    except urllib.error.HTTPError as exc:
        assert exc.code == 304
    host, port = url.removeprefix("http://").split(":")
    for path in ("/explorer/../setup.py", "/explorer/%2e%2e/setup.py", "/explorer/missing.js"):
        with socket.create_connection((host, int(port))) as sock:  # sent as is, not normalised by a client
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            assert sock.recv(100).startswith(b"HTTP/1.1 404"), path
    assert call(url, "eth_chainId") == hex(31337)  # JSON-RPC POST to the root, as before
    assert json.loads(get("/").read())["name"] == "bourse node"
