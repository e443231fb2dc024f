"""eth_* writes and executions: send, call, estimate, access lists, signing."""

from __future__ import annotations

import json
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data

from ..errors import ExecutionReverted, InvalidParams, UnknownAccount
from ..execution import PENDING
from ..node import Node
from ..rpc import format as fmt
from ..rpc import params as p
from ..rpc.registry import rpc
from ..transactions import ACCESS_LIST, DYNAMIC_FEE, LEGACY, SET_CODE, PendingTx, build_unsigned, decode_raw, \
    impersonated, restore_impersonated, sign_tx, signature_of

DEFAULT_TIP = 10**9


def call_context(node: Node, value: Any, absent: str = "latest") -> int:
    """The block a call runs on: `pending` (and, for estimates, no block at all) is the next block's context -
    number + 1, the next timestamp and base fee - on the latest state."""
    ref = p.block_ref(absent if value is None else value)
    backend = node.backend
    if ref.hash is not None:
        return backend.resolve_hash(ref.hash)
    if ref.tag == "pending":
        return PENDING
    return backend.resolve_block(ref.tag)  # type: ignore[arg-type]


class TransactApi:
    def __init__(self, node: Node) -> None:
        self.node = node

    def _number(self, value: Any) -> int:
        ref = p.block_ref(value)
        backend = self.node.backend
        return backend.resolve_hash(ref.hash) if ref.hash is not None else backend.resolve_block(ref.tag)  # type: ignore[arg-type]

    def _context(self, value: Any, absent: str = "latest") -> int:
        return call_context(self.node, value, absent)

    @rpc("eth_sendRawTransaction")
    def send_raw_transaction(self, params: Any) -> str:
        """Submit a signed transaction; with automine it is mined before the hash returns."""
        (raw,) = p.positional(params, 1, 1, "eth_sendRawTransaction")
        data = p.data(raw, "transaction data")
        with self.node.lock:
            tx = self._registered_signature(data)
        if tx is None:  # decoded outside the lock: a blob transaction's proofs take a while to check
            tx = decode_raw(data, self.node.backend.chain_id, require_blobs=True)
        with self.node.lock:
            return fmt.hb(self.node.submit(tx))

    def _registered_signature(self, raw: bytes) -> PendingTx | None:
        """A raw transaction whose signature anvil_impersonateSignature registered: sent as that address."""
        if not self.node.signature_senders:
            return None
        sig = signature_of(raw)
        sender = self.node.signature_senders.get(sig) if sig is not None else None
        if sender is None:
            return None
        tx = restore_impersonated(raw, sender)
        tx_chain_id = getattr(tx.tx, "chain_id", None)
        if tx_chain_id is not None and tx_chain_id != self.node.backend.chain_id:
            raise InvalidParams(f"invalid chain id: transaction is for chain {tx_chain_id}")
        return tx

    def filled(self, req: p.CallRequest) -> PendingTx:
        """`req` completed and signed (the caller holds the node lock)."""
        return self._fill(req)

    def _fill(self, req: p.CallRequest) -> PendingTx:
        """Complete a dev account's (or impersonated account's) transaction and sign it."""
        unsigned, sender = self.prepare(req)
        key = self.node.keys.get(sender)
        if key is not None:
            return sign_tx(unsigned, key, self.node.backend.chain_id)
        return impersonated(unsigned, sender, self.node.backend.chain_id)

    def prepare(self, req: p.CallRequest) -> tuple[Any, bytes]:
        """Complete a dev account's (or impersonated account's) transaction: nonce, fees, gas (estimated, so a
        revert is reported here). The unsigned transaction and its sender; the caller holds the node lock."""
        node, backend = self.node, self.node.backend
        if req.sender is None:
            raise InvalidParams("invalid transaction.from: required")
        key = node.keys.get(req.sender)
        if key is None and not node.is_impersonated(req.sender):
            raise UnknownAccount(fmt.addr(req.sender))
        if req.chain_id is not None and req.chain_id != backend.chain_id:
            raise InvalidParams(f"invalid transaction.chainId: node is chain {backend.chain_id}")
        head = backend.head.number
        if req.nonce is None:
            req.nonce = node.pool.pending_nonce(req.sender, backend.nonce(req.sender, head))
        if req.gas_price is not None:
            type_id = ACCESS_LIST if req.has_access_list else LEGACY
        else:
            type_id = SET_CODE if req.authorizations else (req.type_id if req.type_id is not None else DYNAMIC_FEE)
            if req.tip is None:
                req.tip = DEFAULT_TIP if req.max_fee is None else min(DEFAULT_TIP, req.max_fee)
            if req.max_fee is None:
                req.max_fee = 2 * backend.pending_base_fee() + req.tip
        if req.gas is None:  # estimated for the block it will be mined in
            try:
                req.gas = node.executor.estimate(req, PENDING)
            except ExecutionReverted as exc:
                raise self._explained(exc, req, PENDING, None) from None
        unsigned = build_unsigned(
            type_id=type_id, chain_id=backend.chain_id, nonce=req.nonce, gas=req.gas, to=req.to or b"",
            value=req.value, data=req.data, gas_price=req.gas_price or 0, max_fee=req.max_fee or 0,
            tip=req.tip or 0, access_list=req.access_list, authorizations=req.authorizations)
        return unsigned, req.sender

    @rpc("eth_sendTransaction")
    def send_transaction(self, params: Any) -> str:
        """Sign with a dev key (or impersonate) and submit; missing gas is estimated, so reverts are reported."""
        (tx,) = p.positional(params, 1, 1, "eth_sendTransaction")
        req = p.call_request(tx)
        with self.node.lock:
            return fmt.hb(self.node.submit(self._fill(req)))

    @rpc("eth_signTransaction")
    def sign_transaction(self, params: Any) -> dict[str, Any]:
        """Sign with a dev key without sending: `{raw, tx}` as the execution-apis spec and geth answer (web3.py
        decodes that shape; anvil answers the raw bytes alone)."""
        (tx,) = p.positional(params, 1, 1, "eth_signTransaction")
        req = p.call_request(tx)
        with self.node.lock:
            if req.sender is not None and req.sender not in self.node.keys:
                raise UnknownAccount(fmt.addr(req.sender))
            signed = self._fill(req)
            return {"raw": fmt.hb(signed.raw), "tx": fmt.tx_json(signed.raw, signed.hash, signed.sender, None, None)}

    @rpc("eth_call")
    def call(self, params: Any) -> str:
        """Execute without mining, at a block, with optional state overrides."""
        tx, block, overrides = p.positional(params, 1, 3, "eth_call")
        req = p.call_request(tx)
        console: list[bytes] = []
        with self.node.lock:
            number = self._context(block)
            try:
                return fmt.hb(self.node.executor.call(req, number, overrides, console))
            except ExecutionReverted as exc:
                raise self._explained(exc, req, number, overrides) from None
            finally:
                self.node.say_console("eth_call", console)

    @rpc("eth_estimateGas")
    def estimate_gas(self, params: Any) -> str:
        """Least gas with which the transaction succeeds."""
        tx, block, overrides = p.positional(params, 1, 3, "eth_estimateGas")
        req = p.call_request(tx)
        console: list[bytes] = []
        with self.node.lock:
            number = self._context(block, absent="pending")
            try:
                return fmt.hx(self.node.executor.estimate(req, number, overrides, console))
            except ExecutionReverted as exc:
                raise self._explained(exc, req, number, overrides) from None
            finally:
                self.node.say_console("eth_estimateGas", console)

    def _explained(self, error: ExecutionReverted, req: p.CallRequest, number: int,
                   overrides: Any) -> ExecutionReverted:
        """The revert with the source frames it came through, when the node knows the contracts' sources."""
        from ..tracing.replay import trace_call
        frames = self.node.revert_frames(lambda tracer: trace_call(self.node, req, number, tracer, overrides))
        return error.with_stack(frames)

    @rpc("eth_createAccessList")
    def create_access_list(self, params: Any) -> dict[str, Any]:
        """The addresses and slots a transaction touches, and its gas with that list."""
        tx, block = p.positional(params, 1, 2, "eth_createAccessList")
        req = p.call_request(tx)
        with self.node.lock:
            entries, gas_used, error = self.node.executor.access_list(req, self._context(block))
        out: dict[str, Any] = {
            "accessList": [{"address": fmt.addr(a), "storageKeys": ["0x" + s.to_bytes(32, "big").hex() for s in slots]}
                           for a, slots in entries],
            "gasUsed": fmt.hx(gas_used),
        }
        if error:
            out["error"] = error
        return out

    # -- signing ------------------------------------------------------------------------
    def _key(self, address: Any) -> Any:
        addr = p.address(address, "address")
        key = self.node.keys.get(addr)
        if key is None:
            raise UnknownAccount(fmt.addr(addr))
        return key

    @staticmethod
    def _signature(signed: Any) -> str:
        return "0x" + signed.signature.hex().removeprefix("0x")

    @rpc("eth_sign")
    def eth_sign(self, params: Any) -> str:
        """EIP-191 personal-message signature of data by a dev account (address first)."""
        address, message = p.positional(params, 2, 2, "eth_sign")
        key = self._key(address)
        signed = Account.sign_message(encode_defunct(p.data(message, "message")), key.to_bytes())
        return self._signature(signed)

    @rpc("personal_sign")
    def personal_sign(self, params: Any) -> str:
        """EIP-191 personal-message signature (message first, as MetaMask sends it)."""
        message, address, _password = p.positional(params, 2, 3, "personal_sign")
        key = self._key(address)
        signed = Account.sign_message(encode_defunct(p.data(message, "message")), key.to_bytes())
        return self._signature(signed)

    @rpc("eth_signTypedData_v4", "eth_signTypedData_v3", "eth_signTypedData")
    def sign_typed_data(self, params: Any) -> str:
        """EIP-712 signature of typed data (object or JSON string)."""
        address, typed = p.positional(params, 2, 2, "eth_signTypedData_v4")
        key = self._key(address)
        if isinstance(typed, str):
            try:
                typed = json.loads(typed)
            except ValueError:
                raise InvalidParams("invalid typed data: not JSON") from None
        if not isinstance(typed, dict):
            raise InvalidParams("invalid typed data: expected an object with types, domain, primaryType, message")
        _check_typed_arrays(typed)
        try:
            signable = encode_typed_data(full_message=typed)
        except Exception as exc:
            raise InvalidParams(f"invalid typed data: {exc}") from None
        return self._signature(Account.sign_message(signable, key.to_bytes()))

    # -- identity -------------------------------------------------------------------------
    @rpc("eth_accounts")
    def accounts(self, params: Any) -> list[str]:
        """The dev accounts (their keys are in the banner)."""
        p.positional(params, 0, 0, "eth_accounts")
        return [a.checksum for a in self.node.accounts]

    @rpc("eth_requestAccounts")
    def request_accounts(self, params: Any) -> list[str]:
        """Same as eth_accounts (for wallets that ask)."""
        return self.accounts(params)

    @rpc("eth_coinbase")
    def coinbase(self, params: Any) -> str:
        """Fee recipient of new blocks."""
        p.positional(params, 0, 0, "eth_coinbase")
        return fmt.addr(self.node.backend.coinbase)

    @rpc("eth_chainId")
    def chain_id(self, params: Any) -> str:
        """EIP-155 chain id."""
        p.positional(params, 0, 0, "eth_chainId")
        return fmt.hx(self.node.backend.chain_id)

    @rpc("eth_mining")
    def mining(self, params: Any) -> bool:
        """True unless mining is manual."""
        from ..config import MiningMode

        p.positional(params, 0, 0, "eth_mining")
        return self.node.mode is not MiningMode.MANUAL

    @rpc("eth_hashrate")
    def hashrate(self, params: Any) -> str:
        """Always 0 (no proof of work)."""
        p.positional(params, 0, 0, "eth_hashrate")
        return "0x0"

    @rpc("eth_syncing")
    def syncing(self, params: Any) -> bool:
        """Always false: a dev chain is its own source of truth."""
        p.positional(params, 0, 0, "eth_syncing")
        return False


def _check_typed_arrays(typed: dict[str, Any]) -> None:
    """Reject fixed-size arrays of the wrong length (eth-account does not check them)."""
    import re

    types = typed.get("types")
    if not isinstance(types, dict):
        raise InvalidParams("invalid typed data: types must be an object")

    def walk(type_name: str, value: Any, where: str) -> None:
        match = re.fullmatch(r"(.+)\[(\d*)\]", type_name)
        if match:
            inner, size = match.group(1), match.group(2)
            if not isinstance(value, list):
                raise InvalidParams(f"invalid typed data: {where} must be an array of {inner}")
            if size and int(size) != len(value):
                raise InvalidParams(
                    f"invalid typed data: Expected {size} items for array type {type_name}, got {len(value)} items")
            for i, item in enumerate(value):
                walk(inner, item, f"{where}[{i}]")
        elif type_name in types and isinstance(value, dict):
            for field in types[type_name]:
                if isinstance(field, dict) and field.get("name") in value:
                    walk(str(field.get("type")), value[field["name"]], f"{where}.{field['name']}")

    primary = typed.get("primaryType")
    if isinstance(primary, str):
        walk(primary, typed.get("message"), "message")
