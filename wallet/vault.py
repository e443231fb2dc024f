"""The multisig cold vault: propose a transaction to a file, collect owners' signatures offline, execute on chain.

    proposal = propose(rpc, vault, to, value, data)        # online: nonce, owners, chain id, deadline, digest
    proposal = add_signature(proposal, owner_key)           # offline, once per owner (owners only)
    receipt = execute(rpc, proposal, sender_key)            # online, once `threshold` owners signed

A proposal's signatures are good until its deadline (a week by default) and for one vault nonce: once executed -
even if the call reverts - they can never be used again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from eth_abi import decode, encode
from eth_account import Account
from eth_utils import event_signature_to_log_topic, function_signature_to_4byte_selector, to_checksum_address

from contracts import multisig

from .errors import RpcError, TransactionFileError, WalletError
from .files import write_atomic
from .rpc import Rpc
from .signing import recover_typed_data, typed_data_digest
from .transactions import build_transaction, send_signed, sign_transaction

PROPOSAL_KIND = "bourse/multisig-proposal"
PROPOSAL_VERSION = 2
DEFAULT_LIFETIME = 7 * 86_400  # seconds a proposal's signatures stay good for
_EXECUTED = "0x" + event_signature_to_log_topic("Executed(uint256,address,uint256,bytes32,bool)").hex()
_EXECUTE = function_signature_to_4byte_selector("execute(address,uint256,bytes,uint256,(uint8,bytes32,bytes32)[])")


@dataclass(frozen=True)
class Proposal:
    vault: str
    chain_id: int
    to: str
    value: int
    data: bytes
    nonce: int
    deadline: int
    owners: tuple[str, ...]  # as the vault listed them when proposed
    threshold: int
    signatures: dict[str, str] = field(default_factory=dict)  # signer address -> 65-byte signature hex

    @property
    def typed_data(self) -> dict[str, Any]:
        return multisig.typed_data(self.vault, self.chain_id, self.to, self.value, self.data, self.nonce,
                                   self.deadline)

    @property
    def digest(self) -> bytes:
        return typed_data_digest(self.typed_data)

    def as_json(self) -> dict[str, Any]:
        return {"kind": PROPOSAL_KIND, "version": PROPOSAL_VERSION, "vault": self.vault, "chain_id": self.chain_id,
                "to": self.to, "value": self.value, "data": "0x" + self.data.hex(), "nonce": self.nonce,
                "deadline": self.deadline, "owners": list(self.owners), "threshold": self.threshold,
                "digest": "0x" + self.digest.hex(),
                "signatures": [{"signer": s, "signature": sig} for s, sig in sorted(self.signatures.items())]}

    @classmethod
    def from_json(cls, document: Any) -> Proposal:
        if not isinstance(document, dict) or document.get("kind") != PROPOSAL_KIND:
            raise TransactionFileError(f"not a multisig proposal file (kind must be {PROPOSAL_KIND!r})")
        if document.get("version") != PROPOSAL_VERSION:
            raise TransactionFileError(f"proposal file version {document.get('version')!r} is not "
                                       f"{PROPOSAL_VERSION} (propose it again)")
        try:
            proposal = cls(to_checksum_address(document["vault"]), int(document["chain_id"]),
                           to_checksum_address(document["to"]), int(document["value"]),
                           bytes.fromhex(document["data"].removeprefix("0x")), int(document["nonce"]),
                           int(document["deadline"]), tuple(to_checksum_address(o) for o in document["owners"]),
                           int(document["threshold"]),
                           {to_checksum_address(s["signer"]): s["signature"] for s in document["signatures"]})
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise TransactionFileError(f"proposal file has a bad or missing field: {exc}") from None
        if document.get("digest") not in (None, "0x" + proposal.digest.hex()):
            raise TransactionFileError("proposal digest does not match its fields (the file was edited)")
        return proposal


@dataclass(frozen=True)
class VaultStatus:
    vault: str
    owners: list[str]
    threshold: int
    nonce: int
    balance: int


def status(rpc: Rpc, vault: str) -> VaultStatus:
    vault = _checked_address(vault, "vault")
    try:
        owners = decode(["address[]"], _call(rpc, vault, "getOwners()"))[0]
        threshold = decode(["uint256"], _call(rpc, vault, "threshold()"))[0]
        nonce = decode(["uint256"], _call(rpc, vault, "nonce()"))[0]
    except RpcError:
        raise WalletError(f"{vault} does not answer as a multisig vault") from None
    except Exception:  # eth-abi's decoding errors: the contract returned something else
        raise WalletError(f"{vault} is not a multisig vault (unexpected answers)") from None
    return VaultStatus(vault, [to_checksum_address(o) for o in owners], threshold, nonce, rpc.balance(vault))


def propose(rpc: Rpc, vault: str, to: str, value: int, data: bytes, nonce: int | None = None,
            lifetime: int = DEFAULT_LIFETIME) -> Proposal:
    """A proposal at the vault's next nonce, good for `lifetime` seconds after the latest block; its digest is
    checked against the vault's own `transactionHash`."""
    if lifetime <= 0:
        raise WalletError("a proposal's lifetime must be positive")
    current = status(rpc, vault)
    now = int(rpc.call("eth_getBlockByNumber", "latest", False)["timestamp"], 16)
    proposal = Proposal(current.vault, rpc.chain_id(), _checked_address(to, "--to"), value, data,
                        current.nonce if nonce is None else nonce, now + lifetime, tuple(current.owners),
                        current.threshold)
    on_chain = _call(rpc, proposal.vault, "transactionHash(address,uint256,bytes,uint256,uint256)",
                     (["address", "uint256", "bytes", "uint256", "uint256"],
                      [proposal.to, value, data, proposal.nonce, proposal.deadline]))
    if on_chain != proposal.digest:
        raise WalletError(f"{vault} computes a different digest: is it a Bourse multisig vault on this chain?")
    return proposal


def add_signature(proposal: Proposal, private_key: bytes) -> Proposal:
    """The proposal with this owner's EIP-712 signature added (offline); refused for a key that is not one of the
    owners the proposal lists."""
    signer, (v, r, s) = multisig.sign(private_key, proposal.vault, proposal.chain_id, proposal.to, proposal.value,
                                      proposal.data, proposal.nonce, proposal.deadline)
    if signer not in proposal.owners:
        raise WalletError(f"{signer} is not an owner of vault {proposal.vault} (owners: {', '.join(proposal.owners)})")
    if signer in proposal.signatures:
        raise WalletError(f"{signer} has already signed this proposal")
    return replace(proposal, signatures={**proposal.signatures, signer: "0x" + (r + s + bytes([v])).hex()})


def valid_signers(proposal: Proposal, owners: list[str]) -> list[str]:
    """Signers whose signature recovers to themselves and who are owners."""
    good = []
    for signer, signature in proposal.signatures.items():
        try:
            recovered = recover_typed_data(proposal.typed_data, signature)
        except WalletError:
            continue
        if recovered == signer and signer in owners:
            good.append(signer)
    return good


def execute(rpc: Rpc, proposal: Proposal, sender_key: bytes, wait: bool = True) -> dict[str, Any]:
    current = status(rpc, proposal.vault)
    if current.nonce != proposal.nonce:
        raise WalletError(f"proposal is for vault nonce {proposal.nonce}, the vault is at {current.nonce}")
    now = int(rpc.call("eth_getBlockByNumber", "latest", False)["timestamp"], 16)
    if now > proposal.deadline:
        raise WalletError(f"the proposal's signatures expired at {proposal.deadline} (the chain is at {now}); "
                          "propose it again")
    signers = valid_signers(proposal, current.owners)
    if len(signers) < current.threshold:
        raise WalletError(f"{len(signers)} valid owner signature(s), the vault needs {current.threshold}")
    ordered = sorted(signers, key=lambda a: int(a, 16))
    sigs = []
    for signer in ordered:
        raw = bytes.fromhex(proposal.signatures[signer].removeprefix("0x"))
        sigs.append((raw[64], raw[:32], raw[32:64]))
    data = _EXECUTE + encode(["address", "uint256", "bytes", "uint256", "(uint8,bytes32,bytes32)[]"],
                             [proposal.to, proposal.value, proposal.data, proposal.deadline, sigs])
    sender = Account.from_key(sender_key).address
    tx = build_transaction(rpc, sender, proposal.vault, 0, data)
    receipt = send_signed(rpc, sign_transaction(tx, sender_key), wait=wait)
    for entry in receipt.get("logs", []):
        topics = entry.get("topics") or []
        if topics and topics[0] == _EXECUTED and to_checksum_address(entry["address"]) == proposal.vault:
            succeeded = decode(["uint256", "bytes32", "bool"], bytes.fromhex(entry["data"][2:]))[2]
            if not succeeded:
                raise WalletError(f"the vault's call to {proposal.to} reverted in {receipt['transactionHash']}; "
                                  f"nonce {proposal.nonce} is used up, so these signatures are void")
    return receipt


def write_proposal(path: Path, proposal: Proposal) -> None:
    write_atomic(Path(path), json.dumps(proposal.as_json(), indent=2).encode() + b"\n", mode=0o644)


def read_proposal(path: Path) -> Proposal:
    try:
        return Proposal.from_json(json.loads(Path(path).read_bytes()))
    except FileNotFoundError:
        raise TransactionFileError(f"{path} does not exist") from None
    except (ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, TransactionFileError):
            raise
        raise TransactionFileError(f"{path} is not JSON") from None


def _checked_address(value: str, what: str) -> str:
    from eth_utils import is_address
    if not isinstance(value, str) or not is_address(value):
        raise WalletError(f"{what} is not an address: {value!r}")
    return to_checksum_address(value)


def _call(rpc: Rpc, to: str, signature: str, args: tuple[list[str], list[Any]] | None = None) -> bytes:
    data = function_signature_to_4byte_selector(signature) + (encode(*args) if args else b"")
    return rpc.eth_call(to, data)
