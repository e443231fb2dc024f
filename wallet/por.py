"""Proof of reserves: a Merkle sum tree over users' balances, inclusion proofs, and on-chain asset totals.

Each leaf commits to a user (hashed with a per-leaf salt, so siblings learn nothing about ids) and an amount in
every asset. Each inner node commits to *both* children's hashes and *both* children's sum vectors, not only their
total: the fix for the flaw found in Maxwell's original scheme, where a prover could shift value between siblings.
Verifiers also check that every sum on the path is non-negative.

A proof shows the sums of the siblings on its path, so a leaf per user would show each user a neighbour's exact
balance. Instead every user's balance is split at random into `FRAGMENTS` leaves, padding leaves look like any
other leaf (random hash, zero sums), all are placed at random, and no subtree may hold every fragment of one user
and nothing else: the sums a proof shows are random parts of several users' balances, never one user's balance.
A user's proof is one path per fragment; the fragments add up to the user's balance.
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
FRAGMENTS = 2  # leaves per user
PROOF_VERSION = 2
_RANDOM = secrets.SystemRandom()
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


def liabilities_from_ledger(exchange_url: str, admin_token: str) -> dict[str, dict[str, int]]:
    """What a running exchange owes each user (free + locked per asset), from its ledger endpoint (which needs the
    exchange's admin token). The exchange's own fee account is its equity, not a liability, and is left out."""
    import urllib.request
    request = urllib.request.Request(exchange_url.rstrip("/") + "/admin/ledger",
                                     headers={"Authorization": f"Bearer {admin_token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
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
    """The tree and one proof per user. Amounts are integers in base units, never negative; per-asset totals must
    fit 256 bits."""
    assets = tuple(sorted({a for per_user in balances.values() for a in per_user}))
    for account, per_user in balances.items():
        for amount in per_user.values():
            if not isinstance(amount, int) or isinstance(amount, bool) or not 0 <= amount <= MAX_AMOUNT:
                raise ReserveError(f"balance of {account!r} must be a non-negative integer, got {amount!r}")
    for asset in assets:
        if sum(per_user.get(asset, 0) for per_user in balances.values()) > MAX_AMOUNT:
            raise ReserveError(f"total liabilities in {asset} do not fit 256 bits")
    leaves: list[tuple[str | None, bytes, Node]] = []  # (account or None for padding, salt, node)
    for account in sorted(balances):
        amounts = tuple(balances[account].get(a, 0) for a in assets)
        for part in _split(amounts, FRAGMENTS):
            salt = secrets.token_bytes(16)
            leaves.append((account, salt, Node(leaf_hash(account, salt, part), part)))
    width = 1
    while width < len(leaves):
        width *= 2
    leaves += [(None, b"", Node(secrets.token_bytes(32), (0,) * len(assets))) for _ in range(width - len(leaves))]
    _place(leaves, len(balances))
    level = [node for _, _, node in leaves]
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
    proofs: dict[str, dict[str, Any]] = {}
    for i, (account, salt, node) in enumerate(leaves):
        if account is None:
            continue
        proof = proofs.setdefault(account, {
            "kind": "bourse/por-proof", "version": PROOF_VERSION, "account": account, "assets": list(assets),
            "balances": [str(balances[account].get(a, 0)) for a in assets], "leaves": [], "root": root.hash.hex()})
        proof["leaves"].append({"salt": salt.hex(), "balances": [str(s) for s in node.sums], "path": paths[i]})
    return Tree(assets, root, proofs)


def _split(amounts: tuple[int, ...], parts: int) -> list[tuple[int, ...]]:
    """`parts` vectors of random non-negative amounts that add up to `amounts`."""
    out = [[0] * len(amounts) for _ in range(parts)]
    for column, amount in enumerate(amounts):
        cuts = sorted(_RANDOM.randint(0, amount) for _ in range(parts - 1))
        for row, (low, high) in enumerate(zip([0, *cuts], [*cuts, amount], strict=True)):
            out[row][column] = high - low
    return [tuple(row) for row in out]


def _place(leaves: list[tuple[str | None, bytes, Node]], users: int, attempts: int = 1_000) -> None:
    """Shuffle the leaves (in place) until no subtree holds all of one user's fragments and nothing else real,
    which would show that user's exact balance as a sibling sum."""
    for _ in range(attempts):
        _RANDOM.shuffle(leaves)
        if users < 2 or not _isolates_a_user(leaves):
            return
    raise ReserveError("could not place the leaves without showing a user's balance (too few users?)")


def _isolates_a_user(leaves: list[tuple[str | None, bytes, Node]]) -> bool:
    """Whether some inner node's real leaves are exactly all the fragments of one user."""
    nodes = [({account}, 1) if account is not None else (set(), 0) for account, _, _ in leaves]
    while len(nodes) > 1:
        nodes = [(a | b, m + n) for (a, m), (b, n) in zip(nodes[::2], nodes[1::2], strict=True)]
        if any(len(users) == 1 and count == FRAGMENTS for users, count in nodes):
            return True
    return False


def leaf_hash(account: str, salt: bytes, amounts: tuple[int, ...]) -> bytes:
    account_commitment = hashlib.sha256(salt + account.encode()).digest()
    return hashlib.sha256(b"\x00" + account_commitment + _sums_bytes(amounts)).digest()


def parent(left: Node, right: Node) -> Node:
    sums = tuple(a + b for a, b in zip(left.sums, right.sums, strict=True))
    if any(s > MAX_AMOUNT for s in sums):
        raise ReserveError("sums on the path do not fit 256 bits")
    digest = hashlib.sha256(b"\x01" + left.hash + _sums_bytes(left.sums) + right.hash + _sums_bytes(right.sums))
    return Node(digest.digest(), sums)


def verify_proof(proof: dict[str, Any], root: dict[str, Any]) -> dict[str, int]:
    """The user's balances if every leaf of `proof` leads to `root` (hash and totals) and the leaves add up to the
    balances it states; ReserveError saying why not. Reads version 1 proofs (one leaf) too."""
    try:
        assets = tuple(proof["assets"])
        if assets != tuple(root["assets"]):
            raise ReserveError("proof and root list different assets")
        amounts = tuple(_amount(b, 0) for b in proof["balances"])
        if len(amounts) != len(assets):
            raise ReserveError("proof has the wrong number of balances")
        totals = tuple(_amount(root["totals"][a], 0) for a in assets)
        leaves = proof["leaves"] if proof.get("version") == PROOF_VERSION else \
            [{"salt": proof["salt"], "balances": proof["balances"], "path": proof["path"]}]
        if not isinstance(leaves, list) or not leaves:
            raise ReserveError("proof has no leaves")
        summed = [0] * len(assets)
        for leaf in leaves:
            part = tuple(_amount(b, 0) for b in leaf["balances"])
            if len(part) != len(assets):
                raise ReserveError("a leaf has the wrong number of balances")
            node = Node(leaf_hash(str(proof["account"]), bytes.fromhex(leaf["salt"]), part), part)
            for step in leaf["path"]:
                sibling = Node(bytes.fromhex(step["hash"]), tuple(_amount(s, 0) for s in step["sums"]))
                if len(sibling.sums) != len(assets):
                    raise ReserveError("a sibling on the path has the wrong number of sums")
                node = parent(sibling, node) if step["side"] == "left" else parent(node, sibling)
            if node.hash.hex() != root["root"]:
                raise ReserveError("proof does not lead to the published root hash")
            if node.sums != totals:
                raise ReserveError("proof's sums do not add up to the published totals")
            summed = [a + b for a, b in zip(summed, part, strict=True)]
        if tuple(summed) != amounts:
            raise ReserveError("the proof's leaves do not add up to the balances it states")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, ReserveError):
            raise
        raise ReserveError(f"malformed proof or root: {exc!r}") from None
    return dict(zip(assets, amounts, strict=True))


def read_json(path: Path, what: str) -> dict[str, Any]:
    """A proof or root file as a JSON object; ReserveError naming the file if it is not one."""
    try:
        document = json.loads(Path(path).read_bytes())
    except OSError as exc:
        raise ReserveError(f"cannot read the {what} file {path}: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError):
        raise ReserveError(f"the {what} file {path} is not JSON") from None
    if not isinstance(document, dict):
        raise ReserveError(f"the {what} file {path} is not a JSON object")
    return document


def read_root(path: Path) -> dict[str, Any]:
    """A published root file, checked for the fields a verifier reads."""
    root = read_json(path, "root")
    assets, totals = root.get("assets"), root.get("totals")
    if not isinstance(root.get("root"), str) or not isinstance(assets, list) or not isinstance(totals, dict) \
            or set(totals) != set(assets):
        raise ReserveError(f"the root file {path} lacks root, assets or matching totals")
    for asset in assets:
        _amount(totals[asset], 0)
    return root


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
