"""anvil_dumpState / anvil_loadState (and hardhat_'s names): the state in anvil's format, both ways."""

from __future__ import annotations

from typing import Any

from ..node import Node
from ..rpc import params as p
from ..rpc.registry import rpc
from ..state_file import decode, dump, encode_for_rpc


class StateFilesApi:
    def __init__(self, node: Node) -> None:
        self.node = node

    @rpc("anvil_dumpState", "hardhat_dumpState")
    def dump_state(self, params: Any) -> str:
        """Every account (nonce, balance, code, storage) and the head block, as anvil dumps them: gzip-compressed
        JSON in 0x-hex, which anvil_loadState here or in anvil takes back."""
        p.positional(params, 0, 1, "anvil_dumpState")
        with self.node.lock:
            return encode_for_rpc(dump(self.node))

    @rpc("anvil_loadState", "hardhat_loadState")
    def load_state(self, params: Any) -> bool:
        """Load a state anvil_dumpState (here or in anvil) gave: its accounts replace ours. A chain still at its
        first block restarts at the state's block number; a chain with history keeps its blocks."""
        (document,) = p.positional(params, 1, 1, "anvil_loadState")
        loaded = decode(document)
        self.node.load_state(loaded)
        return True
