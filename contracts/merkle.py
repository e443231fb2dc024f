"""Merkle trees of (epoch, account, amount) leaves as `merkle_distributor.vy` checks them: a leaf is
keccak256(abi_encode(epoch, account, amount)); a parent hashes its two children in ascending order; a proof is the
list of siblings from the leaf up. Deterministic: the same leaves (in any order) give the same root."""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import encode
from eth_utils import keccak, to_checksum_address


def leaf(epoch: int, account: str, amount: int) -> bytes:
    return keccak(encode(["uint256", "address", "uint256"], [epoch, to_checksum_address(account), amount]))


def _parent(a: bytes, b: bytes) -> bytes:
    return keccak(a + b) if a < b else keccak(b + a)


@dataclass(frozen=True)
class Tree:
    root: bytes
    proofs: dict[str, list[bytes]]  # checksum account -> siblings


def build(epoch: int, amounts: dict[str, int]) -> Tree:
    """The tree of one epoch's rewards (accounts with a zero amount are left out)."""
    entries = sorted((leaf(epoch, a, n), to_checksum_address(a)) for a, n in amounts.items() if n > 0)
    if not entries:
        raise ValueError("an epoch needs at least one reward")
    level = [h for h, _ in entries]
    positions = {account: i for i, (_, account) in enumerate(entries)}
    proofs: dict[str, list[bytes]] = {account: [] for _, account in entries}
    while len(level) > 1:
        if len(level) % 2:
            level = level + [level[-1]]  # an odd node pairs with itself
        for account, position in positions.items():
            proofs[account].append(level[position ^ 1])
            positions[account] = position // 2
        level = [_parent(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return Tree(level[0], proofs)


def verify(root: bytes, epoch: int, account: str, amount: int, proof: list[bytes]) -> bool:
    node = leaf(epoch, account, amount)
    for sibling in proof:
        node = _parent(node, sibling)
    return node == root
