"""An in-memory Merkle Patricia trie that re-hashes only what changed.

py-trie's HexaryTrie re-reads and re-validates every node through a database on
each update; a dev chain keeps only the current state in memory and needs just
the root after each block, so nodes here are plain mutable objects that cache
their encoding until a write below them clears it. Paths are hex strings (one
character per nibble). Historical state lives in the storage layer as diffs,
not in old trie nodes, which keeps memory flat as the chain grows.
"""

from __future__ import annotations

from .hashing import keccak

BLANK_ROOT = keccak(b"\x80")


def encode_bytes(value: bytes) -> bytes:
    """RLP-encode one byte string."""
    n = len(value)
    if n == 1 and value[0] < 0x80:
        return value
    if n < 56:
        return bytes((0x80 + n,)) + value
    length = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0xB7 + len(length),)) + length + value


def encode_list(payload: bytes) -> bytes:
    """Wrap already-encoded items in an RLP list header."""
    n = len(payload)
    if n < 56:
        return bytes((0xC0 + n,)) + payload
    length = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0xF7 + len(length),)) + length + payload


def encode_uint(value: int) -> bytes:
    """RLP-encode a non-negative integer (big-endian, no leading zeros)."""
    if value == 0:
        return b"\x80"
    return encode_bytes(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _hex_prefix(path: str, leaf: bool) -> bytes:
    flag = 2 if leaf else 0
    if len(path) % 2:
        return bytes.fromhex(f"{flag + 1:x}" + path)
    return bytes.fromhex(f"{flag:x}0" + path)


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class _Leaf:
    __slots__ = ("path", "value", "enc", "ref")

    def __init__(self, path: str, value: bytes) -> None:
        self.path, self.value, self.enc, self.ref = path, value, b"", b""

    def encode(self) -> bytes:
        if not self.enc:
            self.enc = encode_list(encode_bytes(_hex_prefix(self.path, True)) + encode_bytes(self.value))
        return self.enc


class _Extension:
    __slots__ = ("path", "child", "enc", "ref")

    def __init__(self, path: str, child: "_Branch") -> None:
        self.path, self.child, self.enc, self.ref = path, child, b"", b""

    def encode(self) -> bytes:
        if not self.enc:
            self.enc = encode_list(encode_bytes(_hex_prefix(self.path, False)) + _ref(self.child))
        return self.enc


class _Branch:
    __slots__ = ("children", "enc", "ref")

    def __init__(self) -> None:
        self.children: list[_Node | None] = [None] * 16
        self.enc = self.ref = b""

    def encode(self) -> bytes:
        if not self.enc:
            self.enc = encode_list(b"".join(_ref(c) if c is not None else b"\x80" for c in self.children) + b"\x80")
        return self.enc


_Node = _Leaf | _Extension | _Branch


def _ref(node: _Node) -> bytes:
    """How a parent refers to `node`: inline if short, else by hash (cached until it changes)."""
    ref = node.ref
    if not ref or not node.enc:
        enc = node.encode()
        ref = node.ref = enc if len(enc) < 32 else b"\xa0" + keccak(enc)
    return ref


_HEX = "0123456789abcdef"


class Trie:
    """A mutable trie keyed by byte strings. `secure` tries hash the key first."""

    __slots__ = ("_root", "_secure", "_count")

    def __init__(self, secure: bool = True) -> None:
        self._root: _Node | None = None
        self._secure = secure
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def _path(self, key: bytes) -> str:
        return (keccak(key) if self._secure else key).hex()

    def root_hash(self) -> bytes:
        if self._root is None:
            return BLANK_ROOT
        return keccak(self._root.encode())

    def set(self, key: bytes, value: bytes) -> None:
        """Insert or replace; an empty value deletes the key."""
        if not value:
            self.delete(key)
            return
        self._root = self._insert(self._root, self._path(key), value)

    def delete(self, key: bytes) -> None:
        if self._root is not None:
            self._root = self._delete(self._root, self._path(key))[0]

    def get(self, key: bytes) -> bytes | None:
        node, path = self._root, self._path(key)
        while node is not None:
            if type(node) is _Leaf:
                return node.value if node.path == path else None
            if type(node) is _Extension:
                if not path.startswith(node.path):
                    return None
                path, node = path[len(node.path):], node.child
            else:
                if not path:
                    return None
                node, path = node.children[_HEX.index(path[0])], path[1:]
        return None

    def proof(self, key: bytes) -> list[bytes]:
        """EIP-1186's proof for `key`: the encoding of every node on its path that its parent refers to by hash
        (and the root), from the root down. For an absent key it ends at the node that shows the absence."""
        node, path = self._root, self._path(key)
        out: list[bytes] = []
        while node is not None:
            encoded = node.encode()
            if not out or len(encoded) >= 32:  # shorter nodes sit inside their parent's encoding
                out.append(encoded)
            if type(node) is _Leaf:
                break
            if type(node) is _Extension:
                if not path.startswith(node.path):
                    break
                path, node = path[len(node.path):], node.child
            else:
                if not path:
                    break
                node, path = node.children[_HEX.index(path[0])], path[1:]
        return out

    # -- insertion ---------------------------------------------------------
    def _insert(self, node: _Node | None, path: str, value: bytes) -> _Node:
        if node is None:
            self._count += 1
            return _Leaf(path, value)
        kind = type(node)
        if kind is _Branch:
            i = _HEX.index(path[0])
            node.children[i] = self._insert(node.children[i], path[1:], value)
            node.enc = b""
            return node
        if kind is _Leaf:
            if node.path == path:
                node.value, node.enc = value, b""
                return node
            self._count += 1
            return self._split(node, node.path, path, _Leaf(path, value))
        # extension
        if path.startswith(node.path):
            node.child = self._insert(node.child, path[len(node.path):], value)  # type: ignore[assignment]
            node.enc = b""
            return node
        self._count += 1
        return self._split(node, node.path, path, _Leaf(path, value))

    def _split(self, old: _Node, old_path: str, new_path: str, new_leaf: _Leaf) -> _Node:
        """Make a branch where `old` (at old_path) and a new leaf diverge."""
        common = _common_prefix(old_path, new_path)
        branch = _Branch()
        rest_old = old_path[common:]
        if type(old) is _Leaf:
            old.path, old.enc = rest_old[1:], b""
            branch.children[_HEX.index(rest_old[0])] = old
        else:
            assert type(old) is _Extension
            if len(rest_old) == 1:
                branch.children[_HEX.index(rest_old[0])] = old.child
            else:
                old.path, old.enc = rest_old[1:], b""
                branch.children[_HEX.index(rest_old[0])] = old
        rest_new = new_path[common:]
        new_leaf.path = rest_new[1:]
        branch.children[_HEX.index(rest_new[0])] = new_leaf
        if common:
            return _Extension(new_path[:common], branch)
        return branch

    # -- deletion ----------------------------------------------------------
    def _delete(self, node: _Node, path: str) -> tuple[_Node | None, bool]:
        """Returns the replacement node and whether anything below changed."""
        kind = type(node)
        if kind is _Leaf:
            if node.path == path:
                self._count -= 1
                return None, True
            return node, False
        if kind is _Extension:
            if not path.startswith(node.path):
                return node, False
            child, changed = self._delete(node.child, path[len(node.path):])
            if not changed:
                return node, False
            if child is node.child:
                node.enc = b""
                return node, True
            return self._join(node.path, child), True
        i = _HEX.index(path[0])
        child = node.children[i]
        if child is None:
            return node, False
        new_child, changed = self._delete(child, path[1:])
        if not changed:
            return node, False
        node.children[i] = new_child
        node.enc = b""
        remaining = [j for j, c in enumerate(node.children) if c is not None]
        if len(remaining) > 1:
            return node, True
        j = remaining[0]
        return self._join(_HEX[j], node.children[j]), True

    @staticmethod
    def _join(prefix: str, child: _Node | None) -> _Node | None:
        """Collapse `prefix` + child into one node after a deletion."""
        if child is None:
            return None
        if type(child) is _Leaf:
            child.path, child.enc = prefix + child.path, b""
            return child
        if type(child) is _Extension:
            child.path, child.enc = prefix + child.path, b""
            return child
        return _Extension(prefix, child)


def ordered_trie_root(items: list[bytes]) -> bytes:
    """Root of a list trie keyed by rlp(index), as for transactions and receipts."""
    trie = Trie(secure=False)
    for i, item in enumerate(items):
        trie.set(encode_uint(i), item)
    return trie.root_hash()
