"""API-key orders: the exchange signs each with the key's agent and checks the order it rebuilds from the request is
the one it signed (no recovery of its own signature); the agent's stored key is checked once to be that agent's."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from contracts.settlement import order_hash
from matcher.exchange import agent_orders
from matcher.exchange.apikeys import KeyStore, Principal, Sealer
from matcher.exchange.errors import ApiError
from matcher.exchange.markets import Markets, market_from_table
from matcher.exchange.signed import Domain, check_signer

from .test_units_and_markets import TABLE

MAKER = Account.from_key(b"\x11" * 32).address
DOMAIN = Domain(31337, "0x" + "0a" * 20)
LIMIT = {"symbol": "BRSWBNB", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC", "quantity": "1.5",
         "price": "0.002"}


@pytest.fixture
def keys(tmp_path: Path) -> KeyStore:
    db = sqlite3.connect(tmp_path / "x.sqlite3", isolation_level=None)

    def write(change: Any) -> None:
        with db:
            change(db)
    return KeyStore(db, Sealer(tmp_path / "secrets.key"), write)


def approved_agent(keys: KeyStore) -> Principal:
    now = int(time.time() * 1000)
    agent = keys.new_agent(MAKER, now // 1000 + 86_400, now)
    keys.set_agent_state(agent, "APPROVED")
    return Principal(MAKER, "k" * 64, agent, can_trade=True)


def place(keys: KeyStore, principal: Principal) -> Any:
    markets = Markets([market_from_table(TABLE)])
    return agent_orders.agent_order(dict(LIMIT), principal, keys, markets, DOMAIN, None, int(time.time() * 1000))


def test_the_order_signed_is_the_order_checked_and_its_signature_is_the_agent_s(keys: KeyStore) -> None:
    principal = approved_agent(keys)
    request = place(keys, principal)
    assert request.signed.order_hash == "0x" + order_hash(request.order, DOMAIN.chain_id, DOMAIN.vault).hex()
    digest = bytes.fromhex(request.signed.order_hash[2:])
    check_signer(digest, request.signed.signature, principal.agent)  # what the vault will recover: the agent
    assert request.order.maker == MAKER and request.command.qty == 150


def test_an_order_rebuilt_unlike_the_one_signed_is_refused(keys: KeyStore, monkeypatch: Any) -> None:
    principal = approved_agent(keys)
    build = agent_orders._order

    def another_amount(*args: Any) -> Any:  # what the agent signs is not what the request says
        made = build(*args)
        return replace(made, baseAmount=made.baseAmount + 1)
    monkeypatch.setattr(agent_orders, "_order", another_amount)
    with pytest.raises(ApiError) as refused:
        place(keys, principal)
    assert refused.value.code == -1022


def test_a_stored_key_that_is_not_the_agent_s_is_refused(keys: KeyStore) -> None:
    principal = approved_agent(keys)
    other = keys.sealer.seal(b"\x22" * 32)
    keys.db.execute("UPDATE agents SET sealed_key = ? WHERE agent = ?", (other, principal.agent))
    with pytest.raises(ApiError) as refused:
        place(keys, principal)
    assert refused.value.code == -2015


def test_agent_nonces_rise_across_a_reopened_store(keys: KeyStore, tmp_path: Path) -> None:
    """Each agent order takes the next nonce; the store keeps the next one in memory, and the table (what a
    restart reads) says the same, so no nonce is handed out twice."""
    from matcher.exchange.apikeys import AGENT_NONCE_START
    principal = approved_agent(keys)
    first = [place(keys, principal).signed.nonce for _ in range(3)]
    assert first == [AGENT_NONCE_START, AGENT_NONCE_START + 1, AGENT_NONCE_START + 2]
    reopened = KeyStore(keys.db, keys.sealer, keys._write)
    assert [place(reopened, principal).signed.nonce for _ in range(2)] == [AGENT_NONCE_START + 3,
                                                                           AGENT_NONCE_START + 4]


def test_an_hmac_key_authenticates_every_time_and_a_wrong_signature_never(keys: KeyStore) -> None:
    import hashlib
    import hmac
    principal = approved_agent(keys)
    api_key, secret = keys.create_key(MAKER, principal.agent or "", "HMAC_SHA256", "TRADE,USER_DATA", [], "t",
                                      None, int(time.time() * 1000))
    assert secret is not None
    for attempt in range(3):  # the secret is opened once and kept: the answer must not change
        now = int(time.time() * 1000)
        query = f"symbol=BRSWBNB&timestamp={now}"
        good = hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
        params = {"symbol": "BRSWBNB", "timestamp": str(now), "signature": good}
        assert keys.authenticate(api_key, "127.0.0.1", query, "", params, now).account == MAKER
        with pytest.raises(ApiError) as refused:
            keys.authenticate(api_key, "127.0.0.1", query, "", {**params, "signature": "0" * 64}, now)
        assert refused.value.code == -1022


def test_the_agent_s_approval_read_with_the_key_is_the_one_checked(keys: KeyStore) -> None:
    """A request signed with an API key carries its agent's approval as read with the key (one read, not two);
    an expired or unapproved agent is refused either way, and without those fields the store is asked."""
    principal = approved_agent(keys)
    now_s = int(time.time())
    assert place(keys, replace(principal, agent_state="APPROVED", agent_expiry=now_s + 3600)).order.maker == MAKER
    for state, expiry in (("APPROVED", now_s - 1), ("PENDING", now_s + 3600), ("REVOKED", now_s + 3600)):
        with pytest.raises(ApiError) as refused:
            place(keys, replace(principal, agent_state=state, agent_expiry=expiry))
        assert refused.value.code == -2015
    keys.set_agent_state(principal.agent or "", "REVOKED")
    with pytest.raises(ApiError) as refused:
        place(keys, principal)  # no approval carried: read from the store, which says revoked
    assert refused.value.code == -2015


def test_the_agent_signs_in_the_secp256k1_worker_as_it_would_here(keys: KeyStore) -> None:
    """The exchange's path: the agent's signature made by the worker process (curve_worker), the same bytes as
    made on the loop for the same order (RFC 6979 is deterministic)."""
    import asyncio

    from matcher.exchange.curve_worker import CurveWorker, Sign, run_off_loop

    principal = approved_agent(keys)
    markets = Markets([market_from_table(TABLE)])
    signed: list[Sign] = []

    async def off_loop() -> Any:
        worker = CurveWorker()
        worker.start(asyncio.get_running_loop())
        steps = agent_orders.agent_order_steps(dict(LIMIT), principal, keys, markets, DOMAIN, None,
                                               int(time.time() * 1000))

        def watched() -> Any:  # the same steps, noting what is asked of the worker
            try:
                work = next(steps)
                while True:
                    signed.append(work)
                    work = steps.send((yield work))
            except StopIteration as done:
                return done.value
        try:
            return await run_off_loop(watched(), worker), worker.batches
        finally:
            worker.close()

    request, batches = asyncio.run(off_loop())
    assert batches == 1 and len(signed) == 1 and isinstance(signed[0], Sign)
    digest = bytes.fromhex(request.signed.order_hash[2:])
    assert signed[0].digest == digest
    check_signer(digest, request.signed.signature, principal.agent)
    from contracts.settlement import sign_recoverable
    here = sign_recoverable(keys.agent_key(principal.agent), digest)
    assert request.signed.signature == "0x" + (here[:64] + bytes([here[64] + 27])).hex()
