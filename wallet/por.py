"""Proof of reserves: a Merkle sum tree over users' balances, inclusion proofs, and on-chain asset totals.

Each leaf commits to a user (hashed with a per-user salt, so siblings learn nothing about ids) and the user's
balance in every asset. Each inner node commits to *both* children's hashes and *both* children's sum vectors,
not only their total: the fix for the flaw found in Maxwell's original scheme, where a prover could shift value
between siblings. Verifiers also check that every sum on the path is non-negative.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ReserveError
from .files import write_atomic

MAX_AMOUNT = 2**256 - 1
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


@dataclass(frozen=True)
class Node:
    hash: bytes
    sums: tuple[int, ...]


@dataclass(frozen=True)
class Tree:
    assets: tuple[str, ...]
    root: Node
    proofs: dict[str, dict[str, Any]]

    @property
    def totals(self) -> dict[str, int]:
        return dict(zip(self.assets, self.root.sums, strict=True))

    def root_json(self) -> dict[str, Any]:
        return {"kind": "bourse/por-root", "version": 1, "root": self.root.hash.hex(), "assets": list(self.assets),
                "totals": {a: str(s) for a, s in self.totals.items()}, "users": len(self.proofs)}


def parse_liabilities(text: str, fmt: str = "csv") -> dict[str, dict[str, int]]:
    """`account,asset,amount` rows (CSV with a header, or a JSON list of objects) -> {account: {asset: amount}}."""
    if fmt == "json":
        try:
            rows = json.loads(text)
        except ValueError:
            raise ReserveError("liabilities file is not JSON") from None
        if not isinstance(rows, list):
            raise ReserveError("JSON liabilities are a list of {account, asset, amount} objects")
    else:
        rows = list(csv.DictReader(io.StringIO(text)))
    balances: dict[str, dict[str, int]] = {}
    for number, row in enumerate(rows, 1):
        if not isinstance(row, dict) or not {"account", "asset", "amount"} <= row.keys():
            raise ReserveError(f"row {number}: needs account, asset and amount")
        account, asset = str(row["account"]).strip(), str(row["asset"]).strip()
        amount = _amount(row["amount"], number)
        if not account or not asset:
            raise ReserveError(f"row {number}: empty account or asset")
        per_user = balances.setdefault(account, {})
        if asset in per_user:
            raise ReserveError(f"row {number}: duplicate entry for account {account!r} and asset {asset!r}")
        per_user[asset] = amount
    if not balances:
        raise ReserveError("no liabilities given")
    return balances


def liabilities_from_ledger(exchange_url: str) -> dict[str, dict[str, int]]:
    """What a running exchange owes each user (free + locked per asset), from its ledger endpoint. The exchange's
    own fee account is its equity, not a liability, and is left out."""
    import urllib.request
    try:
        with urllib.request.urlopen(exchange_url.rstrip("/") + "/admin/ledger", timeout=30) as response:
            ledger = json.loads(response.read())
    except (OSError, ValueError) as exc:
        raise ReserveError(f"cannot read the ledger of {exchange_url}: {exc}") from None
    balances: dict[str, dict[str, int]] = {}
    for row in ledger["balances"]:
        if row["account"] != ledger.get("feeAccount"):
            balances.setdefault(row["account"], {})[row["asset"]] = _amount(row["total"], 0)
    if not balances:
        raise ReserveError("the exchange's ledger holds no user balances")
    return balances


def build(balances: dict[str, dict[str, int]]) -> Tree:
    """The tree and one proof per user. Amounts are integers in base units, never negative."""
    assets = tuple(sorted({a for per_user in balances.values() for a in per_user}))
    leaves = []
    for account in sorted(balances):
        salt = secrets.token_bytes(16)
        amounts = tuple(balances[account].get(a, 0) for a in assets)
        for amount in amounts:
            if not isinstance(amount, int) or isinstance(amount, bool) or not 0 <= amount <= MAX_AMOUNT:
                raise ReserveError(f"balance of {account!r} must be a non-negative integer, got {amount!r}")
        leaves.append((account, salt, Node(leaf_hash(account, salt, amounts), amounts)))
    width = 1
    while width < len(leaves):
        width *= 2
    empty = Node(hashlib.sha256(b"bourse-por-empty").digest(), (0,) * len(assets))
    level = [leaf for _, _, leaf in leaves] + [empty] * (width - len(leaves))
    paths: list[list[dict[str, Any]]] = [[] for _ in leaves]
    positions = list(range(len(leaves)))
    while len(level) > 1:
        for i, position in enumerate(positions):
            sibling = level[position ^ 1]
            paths[i].append({"side": "left" if position % 2 else "right", "hash": sibling.hash.hex(),
                             "sums": [str(s) for s in sibling.sums]})
            positions[i] = position // 2
        level = [parent(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    root = level[0]
    proofs = {account: {"kind": "bourse/por-proof", "version": 1, "account": account, "salt": salt.hex(),
                        "assets": list(assets), "balances": [str(s) for s in leaf.sums], "path": paths[i],
                        "root": root.hash.hex()}
              for i, (account, salt, leaf) in enumerate(leaves)}
    return Tree(assets, root, proofs)


def leaf_hash(account: str, salt: bytes, amounts: tuple[int, ...]) -> bytes:
    account_commitment = hashlib.sha256(salt + account.encode()).digest()
    return hashlib.sha256(b"\x00" + account_commitment + _sums_bytes(amounts)).digest()


def parent(left: Node, right: Node) -> Node:
    sums = tuple(a + b for a, b in zip(left.sums, right.sums, strict=True))
    digest = hashlib.sha256(b"\x01" + left.hash + _sums_bytes(left.sums) + right.hash + _sums_bytes(right.sums))
    return Node(digest.digest(), sums)


def verify_proof(proof: dict[str, Any], root: dict[str, Any]) -> dict[str, int]:
    """The user's balances if `proof` leads to `root` (hash and totals); ReserveError saying why not."""
    try:
        assets = tuple(proof["assets"])
        if assets != tuple(root["assets"]):
            raise ReserveError("proof and root list different assets")
        amounts = tuple(_amount(b, 0) for b in proof["balances"])
        node = Node(leaf_hash(proof["account"], bytes.fromhex(proof["salt"]), amounts), amounts)
        for step in proof["path"]:
            sibling = Node(bytes.fromhex(step["hash"]), tuple(_amount(s, 0) for s in step["sums"]))
            if len(sibling.sums) != len(assets):
                raise ReserveError("a sibling on the path has the wrong number of sums")
            node = parent(sibling, node) if step["side"] == "left" else parent(node, sibling)
        totals = tuple(_amount(root["totals"][a], 0) for a in assets)
        if node.hash.hex() != root["root"]:
            raise ReserveError("proof does not lead to the published root hash")
        if node.sums != totals:
            raise ReserveError("proof's sums do not add up to the published totals")
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ReserveError):
            raise
        raise ReserveError(f"malformed proof or root: {exc}") from None
    return dict(zip(assets, amounts, strict=True))


def write_tree(tree: Tree, out_dir: Path) -> Path:
    """`root.json` and `proofs/<account>.json` (ids that are not plain file names are hashed)."""
    out_dir = Path(out_dir)
    (out_dir / "proofs").mkdir(parents=True, exist_ok=True)
    for account, proof in tree.proofs.items():
        write_atomic(out_dir / "proofs" / f"{proof_file_name(account)}.json",
                     json.dumps(proof, indent=2).encode(), mode=0o644)
    root_path = out_dir / "root.json"
    write_atomic(root_path, json.dumps(tree.root_json(), indent=2).encode(), mode=0o644)
    return root_path


def proof_file_name(account: str) -> str:
    """The account id itself when it is a plain file name, else '@' + a hash of it ('@' never starts a plain one)."""
    return account if _SAFE_ID.match(account) and account not in (".", "..") else \
        "@" + hashlib.sha256(account.encode()).hexdigest()[:32]


def coverage(liabilities: dict[str, int], assets: dict[str, int]) -> list[tuple[str, int, int, bool]]:
    """(asset, on-chain assets, liabilities, covered) for every asset on either side."""
    names = sorted(set(liabilities) | set(assets))
    return [(n, assets.get(n, 0), liabilities.get(n, 0), assets.get(n, 0) >= liabilities.get(n, 0)) for n in names]


def _sums_bytes(sums: tuple[int, ...]) -> bytes:
    return b"".join(s.to_bytes(32, "big") for s in sums)


def _amount(value: Any, row: int) -> int:
    where = f"row {row}: " if row else ""
    if isinstance(value, bool):
        raise ReserveError(f"{where}amount must be an integer, got {value!r}")
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if not re.fullmatch(r"-?\d+", text):
            raise ReserveError(f"{where}amount must be an integer in base units, got {value!r}")
        number = int(text)
    if number < 0:
        raise ReserveError(f"{where}negative balance {number}")
    if number > MAX_AMOUNT:
        raise ReserveError(f"{where}amount {number} does not fit 256 bits")
    return number
