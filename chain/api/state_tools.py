"""State reads anvil users script against: EIP-1186 proofs, whole accounts, many slots at once, eth_config
(EIP-7910), filling a transaction without signing it, and the EIP-7966 sends that wait for their receipt."""

from __future__ import annotations

import asyncio
import threading
import time
import zlib
from typing import Any

import rlp

from ..errors import ChainError, InvalidParams
from ..hashing import keccak
from ..node import Node
from ..rpc import format as fmt
from ..rpc import params as p
from ..rpc.registry import rpc
from ..state import EMPTY_CODE_HASH
from ..trie import BLANK_ROOT
from .chain_data import ChainDataApi
from .ots import transaction_by_sender_and_nonce
from .transact import TransactApi

SYNC_TIMEOUT_MS = 2_000  # EIP-7966's recommended default
SYNC_TIMEOUT_MAX_MS = 60_000
MAX_PROOF_KEYS = 1_024

# EIP-7910's precompile names, by the fork that added them
_PRECOMPILES = [
    ("shanghai", {"ECREC": 1, "SHA256": 2, "RIPEMD160": 3, "ID": 4, "MODEXP": 5, "BN254_ADD": 6, "BN254_MUL": 7,
                  "BN254_PAIRING": 8, "BLAKE2F": 9}),
    ("cancun", {"KZG_POINT_EVALUATION": 0x0A}),
    ("prague", {"BLS12_G1ADD": 0x0B, "BLS12_G1MSM": 0x0C, "BLS12_G2ADD": 0x0D, "BLS12_G2MSM": 0x0E,
                "BLS12_PAIRING_CHECK": 0x0F, "BLS12_MAP_FP_TO_G1": 0x10, "BLS12_MAP_FP2_TO_G2": 0x11}),
    ("osaka", {"P256VERIFY": 0x100}),
]
_BLOB_SCHEDULE = {"cancun": {"target": 3, "max": 6, "baseFeeUpdateFraction": 3_338_477},
                  "prague": {"target": 6, "max": 9, "baseFeeUpdateFraction": 5_007_716},
                  "osaka": {"target": 6, "max": 9, "baseFeeUpdateFraction": 5_007_716}}


class SyncTimeout(ChainError):
    """EIP-7966: the transaction is pooled but no block took it in time."""

    code = 4


class SyncNotReady(ChainError):
    """EIP-7966: the transaction is pooled but cannot be mined (a nonce gap)."""

    code = 5


class StateToolsApi:
    def __init__(self, node: Node, data: ChainDataApi, transact: TransactApi) -> None:
        self.node, self.data, self.transact = node, data, transact

    def _number(self, block: Any) -> int:
        ref = p.block_ref(block)
        backend = self.node.backend
        return backend.resolve_hash(ref.hash) if ref.hash is not None else backend.resolve_block(ref.tag)  # type: ignore[arg-type]

    # -- accounts and storage ------------------------------------------------------------
    @rpc("eth_getProof")
    def get_proof(self, params: Any) -> dict[str, Any]:
        """EIP-1186: an account and some of its slots with Merkle proofs against the block's state root."""
        address, keys, block = p.positional(params, 2, 3, "eth_getProof")
        addr = p.address(address, "address")
        if not isinstance(keys, list):
            raise InvalidParams("invalid storage keys: expected a list of 32-byte slots")
        if len(keys) > MAX_PROOF_KEYS:
            raise InvalidParams(f"invalid storage keys: at most {MAX_PROOF_KEYS}")
        slots = [(key, p.quantity_or_hash(key, f"storage key {i}")) for i, key in enumerate(keys)]
        with self.node.lock:
            number = self._number(block)
            with self.node.backend.rewound(number) as state:
                account = state.account(addr)
                nonce, balance, code_hash = account if account is not None else (0, 0, EMPTY_CODE_HASH)
                storage_root = state.storage_root(addr) if account is not None else BLANK_ROOT
                return {
                    "address": fmt.addr(addr), "balance": fmt.hx(balance), "nonce": fmt.hx(nonce),
                    "codeHash": fmt.hb(code_hash), "storageHash": fmt.hb(storage_root),
                    "accountProof": [fmt.hb(node) for node in state.account_proof(addr)],
                    "storageProof": [
                        {"key": key if isinstance(key, str) else fmt.hx(slot), "value": fmt.hx(state.storage(addr, slot)),
                         "proof": [fmt.hb(node) for node in state.storage_proof(addr, slot)]}
                        for key, slot in slots],
                }

    @rpc("eth_getAccount")
    def get_account(self, params: Any) -> dict[str, str]:
        """An account's nonce, balance, storage root and code hash (an absent account reads as empty)."""
        address, block = p.positional(params, 1, 2, "eth_getAccount")
        addr = p.address(address, "address")
        with self.node.lock:
            with self.node.backend.rewound(self._number(block)) as state:
                account = state.account(addr)
                nonce, balance, code_hash = account if account is not None else (0, 0, EMPTY_CODE_HASH)
                return {"nonce": fmt.hx(nonce), "balance": fmt.hx(balance),
                        "storageRoot": fmt.hb(state.storage_root(addr) if account is not None else BLANK_ROOT),
                        "codeHash": fmt.hb(code_hash)}

    @rpc("eth_getAccountInfo")
    def get_account_info(self, params: Any) -> dict[str, str]:
        """Balance, nonce and code in one call, as anvil answers it."""
        address, block = p.positional(params, 1, 2, "eth_getAccountInfo")
        addr = p.address(address, "address")
        with self.node.lock:
            number = self._number(block)
            backend = self.node.backend
            return {"balance": fmt.hx(backend.balance(addr, number)), "nonce": fmt.hx(backend.nonce(addr, number)),
                    "code": fmt.hb(backend.code(addr, number))}

    @rpc("eth_getStorageValues")
    def get_storage_values(self, params: Any) -> dict[str, list[str]]:
        """Many slots of many accounts at one block: {address: [slot, ...]} -> {address: [value, ...]}."""
        wanted, block = p.positional(params, 1, 2, "eth_getStorageValues")
        if not isinstance(wanted, dict):
            raise InvalidParams("invalid request: expected an object of address -> list of slots")
        requests = []
        total = 0
        for address, slots in wanted.items():
            if not isinstance(slots, list):
                raise InvalidParams(f"invalid slots for {address}: expected a list")
            total += len(slots)
            requests.append((address, p.address(address, "address"),
                             [p.quantity_or_hash(s, f"slot of {address}") for s in slots]))
        if total > MAX_PROOF_KEYS:
            raise InvalidParams(f"invalid request: at most {MAX_PROOF_KEYS} slots")
        with self.node.lock:
            reader = self.node.backend.reader(self._number(block))
            return {address: ["0x" + reader.storage(addr, slot).to_bytes(32, "big").hex() for slot in slots]
                    for address, addr, slots in requests}

    @rpc("eth_getTransactionBySenderAndNonce")
    def by_sender_and_nonce(self, params: Any) -> dict[str, Any] | None:
        """The sender's transaction with that nonce, mined or pooled, or null."""
        sender, nonce = p.positional(params, 2, 2, "eth_getTransactionBySenderAndNonce")
        addr, wanted = p.address(sender, "sender"), p.quantity(nonce, "nonce", bits=64)
        with self.node.lock:
            tx_hash = transaction_by_sender_and_nonce(self.node, addr, wanted)
            if tx_hash is not None:
                return self.data.transaction(tx_hash)
            for pending in self.node.pool.by_hash.values():
                if pending.sender == addr and pending.nonce == wanted:
                    return fmt.tx_json(pending.raw, pending.hash, pending.sender, None, None)
            return None

    # -- the chain's configuration ----------------------------------------------------------
    @rpc("eth_config")
    def config(self, params: Any) -> dict[str, Any]:
        """EIP-7910: the active fork's configuration (every fork is active from genesis here, so no next)."""
        p.positional(params, 0, 0, "eth_config")
        from ..config import HARDFORKS
        fork = self.node.config.hardfork
        level = HARDFORKS.index(fork)
        precompiles: dict[str, str] = {}
        for since, found in _PRECOMPILES:
            if HARDFORKS.index(since) <= level:
                precompiles.update({name: fmt.addr(n.to_bytes(20, "big")) for name, n in found.items()})
        with self.node.lock:
            genesis = self.node.storage.block_by_number(self.node.backend.first_number)
            assert genesis is not None
            fork_id = zlib.crc32(genesis[1])  # EIP-2124: forks at genesis add nothing to the checksum
        current = {"activationTime": 0, "blobSchedule": _BLOB_SCHEDULE.get(fork), "chainId": fmt.hx(
            self.node.backend.chain_id), "forkId": f"0x{fork_id:08x}", "precompiles": dict(sorted(precompiles.items())),
                   "systemContracts": {}}  # a dev chain deploys no beacon-root/history/request contracts
        return {"current": current, "next": None, "last": None}

    @rpc("eth_networkId")
    def network_id(self, params: Any) -> str:
        """The network id (the chain id, in decimal), as net_version."""
        p.positional(params, 0, 0, "eth_networkId")
        return str(self.node.backend.chain_id)

    @rpc("eth_protocolVersion")
    def protocol_version(self, params: Any) -> int:
        """Always 1, as anvil answers (a dev node speaks no wire protocol)."""
        p.positional(params, 0, 0, "eth_protocolVersion")
        return 1

    # -- filling and sending ------------------------------------------------------------------
    @rpc("eth_fillTransaction")
    def fill_transaction(self, params: Any) -> dict[str, Any]:
        """Complete a transaction (nonce, fees, gas) without signing: {raw, tx} with a zero signature, as anvil."""
        (tx,) = p.positional(params, 1, 1, "eth_fillTransaction")
        req = p.call_request(tx)
        with self.node.lock:
            if req.sender is None and self.node.accounts:
                req.sender = self.node.accounts[0].address
            unsigned, sender = self.transact.prepare(req)
        message = unsigned.get_message_for_signing()
        if message[0] < 0xC0:
            raw = message[:1] + rlp.encode(rlp.decode(message[1:]) + [b"", b"", b""])
        else:
            raw = rlp.encode(rlp.decode(message)[:6] + [b"", b"", b""])
        out = fmt.tx_json(raw, keccak(raw), sender, None, None)
        return {"raw": fmt.hb(raw), "tx": out}

    @rpc("eth_sendRawTransactionSync", is_async=True)
    async def send_raw_transaction_sync(self, params: Any) -> dict[str, Any]:
        """EIP-7966: submit and answer with the receipt once mined (error 4 after the timeout, 5 if it cannot be
        mined as it stands). The timeout is in milliseconds: 2,000 by default, at most 60,000."""
        raw, timeout = p.positional(params, 1, 2, "eth_sendRawTransactionSync")
        tx_hash = self.transact.send_raw_transaction([raw])
        return await self._receipt_within(tx_hash, timeout)

    @rpc("eth_sendTransactionSync", is_async=True)
    async def send_transaction_sync(self, params: Any) -> dict[str, Any]:
        """eth_sendTransaction that answers with the receipt, as eth_sendRawTransactionSync."""
        tx, timeout = p.positional(params, 1, 2, "eth_sendTransactionSync")
        tx_hash = self.transact.send_transaction([tx])
        return await self._receipt_within(tx_hash, timeout)

    async def _receipt_within(self, tx_hash: str, timeout: Any) -> dict[str, Any]:
        milliseconds = SYNC_TIMEOUT_MS
        if timeout is not None:
            asked = p.quantity(timeout, "timeout")
            if 0 < asked <= SYNC_TIMEOUT_MAX_MS:  # EIP-7966: an invalid timeout falls back to the default
                milliseconds = asked
        h = bytes.fromhex(tx_hash[2:])
        receipt = self._receipt_or_gap(h, tx_hash)
        if receipt is not None:
            return receipt
        deadline = time.monotonic() + milliseconds / 1000
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None:  # called in process (BourseProvider): wait on this thread
            mined = threading.Event()
            listener = _block_listener(mined.set)
            self.node.listeners.append(listener)
            try:
                while (receipt := self._receipt_or_gap(h, tx_hash)) is None:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or not mined.wait(remaining):
                        break
                    mined.clear()
            finally:
                self.node.listeners.remove(listener)
        else:  # over HTTP or WebSocket: the event loop serves others while this waits
            woken = asyncio.Event()
            listener = _block_listener(lambda: loop.call_soon_threadsafe(woken.set))
            self.node.listeners.append(listener)
            try:
                while (receipt := self._receipt_or_gap(h, tx_hash)) is None:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    try:
                        await asyncio.wait_for(woken.wait(), remaining)
                    except asyncio.TimeoutError:
                        break
                    woken.clear()
            finally:
                self.node.listeners.remove(listener)
        if receipt is not None:
            return receipt
        raise SyncTimeout(f"the transaction was added to the pool but was not mined within {milliseconds} ms",
                          tx_hash)

    def _receipt_or_gap(self, h: bytes, tx_hash: str) -> dict[str, Any] | None:
        with self.node.lock:
            receipt = self.data.receipt(h)
            if receipt is not None:
                return receipt
            pending = self.node.pool.by_hash.get(h)
            if pending is not None and pending not in self.node.pool.ready():
                state_nonce = self.node.backend.nonce(pending.sender, self.node.backend.head.number)
                expected = self.node.pool.pending_nonce(pending.sender, state_nonce)
                raise SyncNotReady(f"the transaction was added to the pool but cannot be mined: its nonce "
                                   f"{pending.nonce} leaves a gap (next expected nonce {expected})", tx_hash)
            return None


def _block_listener(wake: Any) -> Any:
    def listener(kind: str, _payload: Any) -> None:
        if kind == "block":
            wake()
    return listener

