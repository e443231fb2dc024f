"""API keys for stock Binance clients, without custody: each key belongs to a maker and is bound to an agent key
the maker approved on the settlement vault. The exchange keeps the agent's private key and HMAC secrets encrypted
(AES-GCM, under a 0600 key file in its data dir) and signs vault orders with the agent; the vault accepts them only
while the maker's approval lives, and the maker can revoke it on chain at any time.

Requests are authenticated Binance's way: `X-MBX-APIKEY`, `timestamp` within `recvWindow`, and `signature` over
the query string followed by the body (HMAC-SHA256 in hex, or Ed25519 in base64 for a registered public key).
Without an API key, a private read carries the account's own EIP-712 `Read` signature instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wallet.keystore import address_of

from .errors import INVALID_SIGNATURE, MALFORMED, REJECTED_MBX_KEY, TIMESTAMP, ApiError

SCHEMA = """
CREATE TABLE IF NOT EXISTS agents (
    agent TEXT PRIMARY KEY, account TEXT NOT NULL, sealed_key TEXT NOT NULL, expiry INTEGER NOT NULL,
    state TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS agents_by_account ON agents (account, state);
CREATE TABLE IF NOT EXISTS api_keys (
    api_key TEXT PRIMARY KEY, account TEXT NOT NULL, agent TEXT NOT NULL, kind TEXT NOT NULL, sealed_secret TEXT,
    public_key TEXT, permissions TEXT NOT NULL, ip_allowlist TEXT NOT NULL, label TEXT NOT NULL,
    created_ms INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS api_keys_by_account ON api_keys (account);
CREATE TABLE IF NOT EXISTS agent_nonces (account TEXT PRIMARY KEY, next TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS agent_orders (order_id INTEGER PRIMARY KEY, agent TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS agent_approvals (
    agent TEXT PRIMARY KEY, maker TEXT NOT NULL, expiry INTEGER NOT NULL, nonce TEXT NOT NULL,
    signature TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', raw TEXT, tx_hash TEXT);
CREATE INDEX IF NOT EXISTS agent_orders_by_agent ON agent_orders (agent);
"""
HMAC, ED25519 = "HMAC_SHA256", "ED25519"
TRADE, READ = "TRADE", "USER_DATA"
DEFAULT_RECV_WINDOW, MAX_RECV_WINDOW, AHEAD_MS = 5000, 60_000, 1000
AGENT_NONCE_START = 2**200  # agent-signed orders take nonces far above any a user picks by hand
MAX_AGENT_KEYS_KEPT = 10_000  # agent keys (checked against their address once each), HMAC secrets and
                             # agent nonces kept in memory, each
_KEY_FORMAT = re.compile(r"^[A-Za-z0-9]{64}$")
BAD_RECV_WINDOW = -1131
BAD_API_KEY_FORMAT = -2014


@dataclass(frozen=True)
class Principal:
    """Who a request speaks for: the account, and the API key when it came with one."""

    account: str
    api_key: str | None = None
    agent: str | None = None
    can_trade: bool = False
    agent_expiry: int | None = None  # the agent's approval as read with the key, in the same request (if it was)
    agent_state: str | None = None


class Sealer:
    """AES-GCM under a random key kept in a 0600 file."""

    def __init__(self, key_file: Path) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        from wallet.signer_server import load_or_create_token
        token = load_or_create_token(key_file)
        self._aead = AESGCM(hashlib.sha256(b"bourse exchange secrets\0" + token.encode()).digest())

    def seal(self, plain: bytes) -> str:
        nonce = os.urandom(12)
        return (nonce + self._aead.encrypt(nonce, plain, None)).hex()

    def open(self, sealed: str) -> bytes:
        raw = bytes.fromhex(sealed)
        return self._aead.decrypt(raw[:12], raw[12:], None)


class KeyStore:
    def __init__(self, db: sqlite3.Connection, sealer: Sealer, write: Any) -> None:
        """`write(change)` runs `change(db)` in one transaction (the exchange core's)."""
        self.db, self.sealer, self._write = db, sealer, write
        self._agent_keys: dict[str, bytes] = {}  # agent -> its private key, checked to be that address's
        self._secrets: dict[str, bytes] = {}  # sealed HMAC secret -> the secret (opened once, not per request)
        self._next_nonces: dict[str, int] = {}  # account -> its next agent nonce (this store alone writes them)
        db.executescript(SCHEMA)

    # --- agents ---------------------------------------------------------------------------------------------
    def new_agent(self, account: str, expiry: int, now_ms: int) -> str:
        """A fresh agent key for `account`, PENDING until the vault shows the maker's approval."""
        key = secrets.token_bytes(32)
        agent = address_of(key)
        sealed = self.sealer.seal(key)
        self._write(lambda db: (db.execute("DELETE FROM agents WHERE account = ? AND state = 'PENDING'", (account,)),
                                db.execute("INSERT INTO agents VALUES (?,?,?,?,?,?)",
                                           (agent, account, sealed, expiry, "PENDING", now_ms))))
        return agent

    def agent(self, agent: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT agent, account, expiry, state FROM agents WHERE agent = ?", (agent,)).fetchone()
        return dict(zip(("agent", "account", "expiry", "state"), row)) if row else None

    def agent_key(self, agent: str) -> bytes:
        """The agent's private key, checked (once per agent, then kept) to be the key of that address: what the
        exchange signs with it is then the agent's signature without recovering each one."""
        key = self._agent_keys.get(agent)
        if key is not None:
            return key
        row = self.db.execute("SELECT sealed_key FROM agents WHERE agent = ?", (agent,)).fetchone()
        if row is None:
            raise ApiError(REJECTED_MBX_KEY, "Invalid API-key, IP, or permissions for action.", status=401)
        key = self.sealer.open(row[0])
        if address_of(key).lower() != agent.lower():
            raise ApiError(REJECTED_MBX_KEY, "Invalid API-key, IP, or permissions for action. (the key's agent "
                                             "does not match its stored key)", status=401)
        if len(self._agent_keys) >= MAX_AGENT_KEYS_KEPT:
            self._agent_keys.clear()
        self._agent_keys[agent] = key
        return key

    def set_agent_state(self, agent: str, state: str, expiry: int | None = None) -> None:
        self._write(lambda db: db.execute("UPDATE agents SET state = ?, expiry = COALESCE(?, expiry) WHERE "
                                          "agent = ?", (state, expiry, agent)))

    def queue_approval(self, maker: str, agent: str, expiry: int, nonce: int, signature: str) -> None:
        """A maker's signed AgentApproval for the operator to submit (approveAgentBySig), once."""
        self._write(lambda db: db.execute("INSERT OR IGNORE INTO agent_approvals (agent, maker, expiry, nonce, "
                                          "signature, state) VALUES (?,?,?,?,?,'PENDING')",
                                          (agent, maker, expiry, str(nonce), signature)))

    def next_agent_nonce(self, account: str) -> int:
        """The account's next agent nonce, recorded as used before it is returned. Read from the table once per
        account, then kept: only this method writes it."""
        nonce = self._next_nonces.get(account)
        if nonce is None:
            row = self.db.execute("SELECT next FROM agent_nonces WHERE account = ?", (account,)).fetchone()
            nonce = int(row[0]) if row else AGENT_NONCE_START
        self._write(lambda db: db.execute("INSERT INTO agent_nonces VALUES (?, ?) ON CONFLICT(account) DO UPDATE "
                                          "SET next = excluded.next", (account, str(nonce + 1))))
        if len(self._next_nonces) >= MAX_AGENT_KEYS_KEPT:
            self._next_nonces.clear()
        self._next_nonces[account] = nonce + 1
        return nonce

    # --- API keys -------------------------------------------------------------------------------------------
    def create_key(self, account: str, agent: str, kind: str, permissions: str, ip_allowlist: list[str],
                   label: str, public_key: str | None, now_ms: int) -> tuple[str, str | None]:
        """(apiKey, secret): the secret once, for an HMAC key; None for an Ed25519 key (the user holds it)."""
        api_key = secrets.token_hex(32)[:64]
        api_key = "".join(c.upper() if i % 3 == 0 else c for i, c in enumerate(api_key))  # Binance-like mix
        secret = secrets.token_hex(32) if kind == HMAC else None
        row = (api_key, account, agent, kind, self.sealer.seal(secret.encode()) if secret else None, public_key,
               permissions, ",".join(ip_allowlist), label, now_ms)
        self._write(lambda db: db.execute("INSERT INTO api_keys (api_key, account, agent, kind, sealed_secret, "
                                          "public_key, permissions, ip_allowlist, label, created_ms) VALUES "
                                          "(?,?,?,?,?,?,?,?,?,?)", row))
        return api_key, secret

    def keys_of(self, account: str) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT k.api_key, k.agent, k.kind, k.permissions, k.ip_allowlist, k.label, "
                               "k.created_ms, a.expiry, a.state FROM api_keys k JOIN agents a ON a.agent = k.agent "
                               "WHERE k.account = ? AND k.deleted = 0 ORDER BY k.created_ms", (account,)).fetchall()
        return [{"apiKey": k, "agent": ag, "keyType": kind, "permissions": perms.split(","),
                 "ipRestrict": bool(ips), "ipAllowlist": ips.split(",") if ips else [], "label": label,
                 "createTime": created, "agentExpiry": expiry, "agentState": state}
                for k, ag, kind, perms, ips, label, created, expiry, state in rows]

    def delete_key(self, account: str, api_key: str) -> bool:
        found = self.db.execute("SELECT 1 FROM api_keys WHERE api_key = ? AND account = ? AND deleted = 0",
                                (api_key, account)).fetchone()
        if found:
            self._write(lambda db: db.execute("UPDATE api_keys SET deleted = 1 WHERE api_key = ?", (api_key,)))
        return found is not None

    def lookup(self, api_key: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT k.account, k.agent, k.kind, k.sealed_secret, k.public_key, k.permissions, "
                              "k.ip_allowlist, a.expiry, a.state FROM api_keys k JOIN agents a ON a.agent = k.agent "
                              "WHERE k.api_key = ? AND k.deleted = 0", (api_key,)).fetchone()
        if row is None:
            return None
        return dict(zip(("account", "agent", "kind", "sealed_secret", "public_key", "permissions", "ip_allowlist",
                         "expiry", "state"), row))

    def _secret(self, sealed: str) -> bytes:
        """An HMAC key's secret, opened once and then kept in memory (as the agents' keys are), bounded."""
        secret = self._secrets.get(sealed)
        if secret is None:
            secret = self.sealer.open(sealed)
            if len(self._secrets) >= MAX_AGENT_KEYS_KEPT:
                self._secrets.clear()
            self._secrets[sealed] = secret
        return secret

    # --- Binance-signed requests ----------------------------------------------------------------------------
    def authenticate(self, api_key: str, remote: str, query_string: str, body: str, params: dict[str, Any],
                     now_ms: int) -> Principal:
        """The principal of a request signed with an API key, or ApiError as Binance answers."""
        if not _KEY_FORMAT.match(api_key):
            raise ApiError(BAD_API_KEY_FORMAT, "API-key format invalid.", status=401)
        found = self.lookup(api_key)
        if found is None or (found["ip_allowlist"] and remote not in found["ip_allowlist"].split(",")) or \
                found["state"] == "REVOKED":
            raise ApiError(REJECTED_MBX_KEY, "Invalid API-key, IP, or permissions for action.", status=401)
        check_timestamp(params, now_ms)
        signature = params.get("signature")
        if not isinstance(signature, str) or not signature:
            raise ApiError(MALFORMED, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")
        payload = signed_payload(query_string, body)
        if found["kind"] == HMAC:
            secret = self._secret(found["sealed_secret"])
            expected = hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()
            valid = hmac.compare_digest(expected, signature.lower())
        else:
            valid = _ed25519_valid(found["public_key"], payload.encode(), signature)
        if not valid:
            raise ApiError(INVALID_SIGNATURE, "Signature for this request is not valid.")
        return Principal(found["account"], api_key, found["agent"], TRADE in found["permissions"].split(","),
                         found["expiry"], found["state"])


def check_timestamp(params: dict[str, Any], now_ms: int) -> int:
    """`timestamp` and `recvWindow` as Binance checks them (-1021 outside the window, -1131 a bad window)."""
    raw = params.get("timestamp")
    if raw is None or raw == "":
        raise ApiError(MALFORMED, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.")
    if not str(raw).isdigit():
        raise ApiError(-1100, "Illegal characters found in parameter 'timestamp'; legal range is '^[0-9]{1,20}$'.")
    window_raw = params.get("recvWindow", DEFAULT_RECV_WINDOW)
    if not str(window_raw).isdigit() or not 0 < int(window_raw) <= MAX_RECV_WINDOW:
        raise ApiError(BAD_RECV_WINDOW, f"recvWindow must be less than or equal to {MAX_RECV_WINDOW}.")
    timestamp = int(raw)
    if timestamp > now_ms + AHEAD_MS:
        raise ApiError(TIMESTAMP, "Timestamp for this request was 1000ms ahead of the server's time.")
    if now_ms - timestamp > int(window_raw):
        raise ApiError(TIMESTAMP, "Timestamp for this request is outside of the recvWindow.")
    return timestamp


def signed_payload(query_string: str, body: str) -> str:
    """What the client signed: the query string then the body, each without its `signature` parameter."""
    return _without_signature(query_string) + _without_signature(body)


def _without_signature(text: str) -> str:
    if not text:
        return ""
    kept = [part for part in text.split("&") if not part.startswith("signature=")]
    return "&".join(kept)


def _ed25519_valid(public_key: str, payload: bytes, signature: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.serialization import load_pem_public_key
    try:
        key = load_pem_public_key(public_key.encode())
        key.verify(base64.b64decode(signature), payload)  # type: ignore[union-attr,call-arg]
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


__all__ = ["ED25519", "HMAC", "KeyStore", "Principal", "READ", "Sealer", "TRADE", "check_timestamp",
           "signed_payload"]
