"""eth_subscribe over a real WebSocket."""

from __future__ import annotations

import asyncio
import json

from web3 import Web3
from websockets.asyncio.client import connect

from .evm_code import LOGGER, deployable

A0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def test_new_heads_logs_and_pending_subscriptions(web3: Web3, url: str) -> None:
    receipt = web3.eth.get_transaction_receipt(web3.eth.send_transaction({"from": A0, "data": deployable(LOGGER)}))
    logger = receipt["contractAddress"]
    ws_url = url.replace("http://", "ws://")

    async def run() -> list[dict]:
        async with connect(ws_url) as ws:
            ids = []
            for i, params in enumerate((["newHeads"], ["logs", {"address": logger}], ["newPendingTransactions"],
                                        ["newPendingTransactions", True], ["syncing"])):
                await ws.send(json.dumps({"jsonrpc": "2.0", "id": i, "method": "eth_subscribe", "params": params}))
                ids.append(json.loads(await ws.recv())["result"])
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": 9, "method": "eth_subscribe", "params": ["nope"]}))
            assert json.loads(await ws.recv())["error"]["code"] == -32602
            await asyncio.get_running_loop().run_in_executor(
                None, lambda: web3.eth.send_transaction({"from": A0, "to": logger, "data": "0x" + "ee" * 32}))
            got = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(4)]
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": 10, "method": "eth_unsubscribe", "params": [ids[0]]}))
            assert json.loads(await ws.recv())["result"] is True
            return [{"ids": ids}] + got

    head, *events = asyncio.run(run())
    by_sub = {e["params"]["subscription"]: e["params"]["result"] for e in events}
    new_heads, logs, pending, full = (by_sub[i] for i in head["ids"][:4])
    assert head["ids"][4] not in by_sub  # syncing: a dev node never syncs
    assert int(new_heads["number"], 16) == web3.eth.block_number
    assert logs["topics"] == ["0x" + "ee" * 32]
    assert pending.startswith("0x") and len(pending) == 66
    assert full["hash"] == pending and full["from"].lower() == A0.lower() and full["to"].lower() == logger.lower()
    assert full["input"] == "0x" + "ee" * 32 and full["blockNumber"] is None


def test_plain_rpc_over_websocket_and_http_only_methods_refuse_subscribe(url: str) -> None:
    from .conftest import rpc

    async def run() -> dict:
        async with connect(url.replace("http://", "ws://")) as ws:
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}))
            return json.loads(await ws.recv())

    assert asyncio.run(run())["result"] == "0x7a69"
    assert rpc(url, "eth_subscribe", ["newHeads"])["error"]["code"] == -32601
