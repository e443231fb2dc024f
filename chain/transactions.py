"""Decoding, building and checking transactions (py-evm's transaction classes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth.vm.spoof import SpoofTransaction
from eth.abc import SignedTransactionAPI
from eth.vm.forks.prague.transactions import PragueTransactionBuilder
import rlp
from coincurve import PublicKey
from eth_utils import ValidationError

from .errors import InvalidParams, TransactionRejected
from .hashing import keccak
from .trie import encode_bytes, encode_list

Builder = PragueTransactionBuilder
LEGACY, ACCESS_LIST, DYNAMIC_FEE, BLOB, SET_CODE = 0, 1, 2, 3, 4


@dataclass(frozen=True, slots=True)
class PendingTx:
    """A transaction the node accepted: its bytes, hash, sender and py-evm object."""

    hash: bytes
    raw: bytes
    sender: bytes
    tx: Any  # SignedTransactionAPI, or a SpoofTransaction for impersonated senders
    impersonated: bool = False
    sidecar: Any = None  # a blob transaction's chain.blobs.Sidecar, when it came with one

    @property
    def nonce(self) -> int:
        return self.tx.nonce

    @property
    def type_id(self) -> int:
        return self.tx.type_id or 0

    def max_fee(self) -> int:
        return self.tx.max_fee_per_gas if self.type_id >= DYNAMIC_FEE else self.tx.gas_price

    def tip(self) -> int:
        return self.tx.max_priority_fee_per_gas if self.type_id >= DYNAMIC_FEE else self.tx.gas_price

    def effective_gas_price(self, base_fee: int) -> int:
        return min(self.max_fee(), base_fee + self.tip()) if self.type_id >= DYNAMIC_FEE else self.tx.gas_price


def decode_raw(raw: bytes, chain_id: int, require_blobs: bool = False) -> PendingTx:
    """Decode a signed transaction and recover its sender, or say what is wrong. A blob transaction may come in
    its network form (with its sidecar, which is checked); `require_blobs` refuses one without (a new one sent
    by a client, as geth refuses it)."""
    if not raw:
        raise InvalidParams("empty transaction")
    sidecar = None
    if raw[0] == BLOB:
        from .blobs import split_network_form

        raw, sidecar = split_network_form(raw)
        if sidecar is None and require_blobs:
            raise TransactionRejected("blob transaction without its blobs: send the network form "
                                      "(transaction, blobs, commitments and proofs)")
    try:
        tx = Builder.decode(raw)
    except Exception as exc:
        raise InvalidParams(f"could not decode transaction: {exc}") from None
    type_id = tx.type_id or 0
    if type_id == BLOB:
        if len(tx.to) != 20:
            raise TransactionRejected("invalid blob transaction: it cannot create a contract (EIP-4844: `to` is "
                                      "an address)")
        if sidecar is not None:
            from .blobs import verify_sidecar

            verify_sidecar(sidecar, tuple(tx.blob_versioned_hashes))
    tx_chain_id = getattr(tx, "chain_id", None)
    if tx_chain_id is not None and tx_chain_id != chain_id:
        raise TransactionRejected(f"invalid chain id: transaction is for chain {tx_chain_id}, node is chain {chain_id}")
    sender = recover_sender(raw)
    tx.__dict__["sender"] = sender  # py-evm caches `sender` here; we recovered it once, natively
    return PendingTx(hash=keccak(raw), raw=raw, sender=sender, tx=tx, sidecar=sidecar)


SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _encode_item(item: Any) -> bytes:
    if isinstance(item, list):
        return encode_list(b"".join(_encode_item(i) for i in item))
    return encode_bytes(item)


def recover_sender(raw: bytes) -> bytes:
    """The signer of a raw transaction: one keccak of the signing payload, one native recovery.

    py-evm builds the signing payload twice and recovers the key twice (once to
    verify, once for the sender); this does each once, with the same checks:
    r and s in range, s in the lower half (EIP-2), y parity 0 or 1.
    """
    if raw[0] >= 0xC0:
        items = rlp.decode(raw)
        v = int.from_bytes(items[6], "big")
        if v in (27, 28):
            parity, payload = v - 27, items[:6]
        elif v >= 35:
            chain_id, parity = (v - 35) // 2, (v - 35) % 2
            payload = items[:6] + [chain_id.to_bytes((chain_id.bit_length() + 7) // 8, "big"), b"", b""]
        else:
            raise TransactionRejected(f"invalid signature: bad v {v}")
        message = _encode_item(payload)
    else:
        items = rlp.decode(raw[1:])
        parity = int.from_bytes(items[-3], "big")
        message = raw[:1] + _encode_item(items[:-3])
    r, s = int.from_bytes(items[-2], "big"), int.from_bytes(items[-1], "big")
    if parity not in (0, 1) or not 0 < r < SECP256K1_N or not 0 < s <= SECP256K1_N // 2:
        raise TransactionRejected("invalid signature: r, s or y parity out of range (EIP-2)")
    try:
        public = PublicKey.from_signature_and_message(
            r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes((parity,)), keccak(message), hasher=None)
    except Exception as exc:
        raise TransactionRejected(f"invalid signature: {exc}") from None
    return keccak(public.format(compressed=False)[1:])[12:]


def build_unsigned(
    *, type_id: int, chain_id: int, nonce: int, gas: int, to: bytes, value: int, data: bytes,
    gas_price: int = 0, max_fee: int = 0, tip: int = 0, access_list: list[Any] | None = None,
    authorizations: list[Any] | None = None,
) -> Any:
    """An unsigned py-evm transaction of the given type."""
    access = tuple((a, tuple(slots)) for a, slots in (access_list or []))
    if type_id == LEGACY:
        return Builder.create_unsigned_transaction(
            nonce=nonce, gas_price=gas_price, gas=gas, to=to, value=value, data=data)
    if type_id == ACCESS_LIST:
        return Builder.new_unsigned_access_list_transaction(
            chain_id=chain_id, nonce=nonce, gas_price=gas_price, gas=gas, to=to, value=value, data=data,
            access_list=access)
    if type_id == SET_CODE:
        return Builder.new_unsigned_set_code_transaction(
            chain_id=chain_id, nonce=nonce, max_priority_fee_per_gas=tip, max_fee_per_gas=max_fee, gas=gas,
            to=to, value=value, data=data, access_list=access, authorization_list=tuple(authorizations or ()))
    return Builder.new_unsigned_dynamic_fee_transaction(
        chain_id=chain_id, nonce=nonce, max_priority_fee_per_gas=tip, max_fee_per_gas=max_fee, gas=gas, to=to,
        value=value, data=data, access_list=access)


def spoofed_call(unsigned: Any, sender: bytes) -> SpoofTransaction:
    """`unsigned` as sent by `sender`, for a call or estimate: py-evm's SpoofTransaction(from_=sender), whose
    overrides hold a lambda that holds the overrides (a reference cycle per call, left to the collector), with that
    lambda replaced by one that holds only the sender."""
    tx = SpoofTransaction(unsigned, from_=sender)
    tx.overrides["get_sender"] = lambda: sender
    return tx


def impersonated(unsigned: Any, sender: bytes, chain_id: int) -> PendingTx:
    """A transaction from an account whose key the node lacks (anvil_impersonateAccount).

    It carries a fake signature; its hash is that of the encoding with the fake
    signature and the sender, so two identical requests from different senders differ.
    """
    from eth_keys import keys

    fake_key = keys.PrivateKey(keccak(b"bourse impersonation"))
    signed: SignedTransactionAPI = _sign_any(unsigned, fake_key, chain_id)
    raw = signed.encode()
    return PendingTx(hash=keccak(raw + sender), raw=raw, sender=sender,
                     tx=SpoofTransaction(signed, sender=sender, get_sender=lambda: sender), impersonated=True)


def normal_signature(sig: bytes) -> bytes:
    """r || s || y-parity, with 27/28 and EIP-155 v values folded to 0/1."""
    v = sig[64]
    parity = v - 27 if v in (27, 28) else v % 2 if v in (0, 1) else (v - 35) % 2
    return sig[:64] + bytes((parity,))


def signature_of(raw: bytes) -> bytes | None:
    """A raw transaction's (r, s, y-parity), or None if it does not decode."""
    try:
        tx = Builder.decode(raw)
    except Exception:
        return None
    parity = tx.y_parity if (tx.type_id or 0) else (tx.v - 27 if tx.v in (27, 28) else (tx.v - 35) % 2)
    return tx.r.to_bytes(32, "big") + tx.s.to_bytes(32, "big") + bytes((parity,))


def restore_impersonated(raw: bytes, sender: bytes) -> PendingTx:
    tx = Builder.decode(raw)
    return PendingTx(hash=keccak(raw + sender), raw=raw, sender=sender,
                     tx=SpoofTransaction(tx, sender=sender, get_sender=lambda: sender), impersonated=True)


def _sign_any(unsigned: Any, key: Any, chain_id: int) -> SignedTransactionAPI:
    if hasattr(unsigned, "chain_id"):
        return unsigned.as_signed_transaction(key)
    return unsigned.as_signed_transaction(key, chain_id=chain_id)


def sign_tx(unsigned: Any, key: Any, chain_id: int) -> PendingTx:
    signed = _sign_any(unsigned, key, chain_id)
    raw = signed.encode()
    return PendingTx(hash=keccak(raw), raw=raw, sender=signed.sender, tx=signed)


TYPE_INTRODUCED = {BLOB: ("cancun", "EIP-4844 blob"), SET_CODE: ("prague", "EIP-7702 set-code")}
DELEGATION_PREFIX = b"\xef\x01\x00"  # EIP-7702: the code a set-code authorization gives an account


def is_delegation(code: bytes) -> bool:
    """Whether `code` is an EIP-7702 delegation designator (the prefix and the delegate's 20 bytes)."""
    return len(code) == 23 and code[:3] == DELEGATION_PREFIX


def check_type_for_fork(type_id: int, fork: str) -> None:
    """Refuse a transaction type the active hardfork does not have (a type-4 under cancun, a type-3 under
    shanghai): mining it would silently drop what makes it that type."""
    from .config import HARDFORKS

    introduced = TYPE_INTRODUCED.get(type_id)
    if introduced is not None and HARDFORKS.index(fork) < HARDFORKS.index(introduced[0]):
        raise TransactionRejected(
            f"transaction type {type_id} ({introduced[1]}) is not supported under the {fork} hardfork; "
            f"it needs {introduced[0]} or later")


def calldata_floor(data: bytes) -> int:
    """EIP-7623's least gas for a transaction's calldata (Prague on): 21000 + 10 per token, a zero byte one
    token and any other byte four."""
    zeros = data.count(0)
    return 21_000 + 10 * (zeros + 4 * (len(data) - zeros))


def intrinsic_gas(tx: Any) -> int:
    try:
        return tx.intrinsic_gas
    except ValidationError as exc:
        raise TransactionRejected(str(exc)) from None
