"""Bourse's local EVM node: py-evm behind anvil-compatible JSON-RPC.

Library use::

    from chain import Node, NodeConfig
    node = Node(NodeConfig())            # in-process chain
    w3 = Web3(BourseProvider(node))       # web3 without HTTP
"""

from . import hashing as _hashing  # noqa: F401  (selects the fast keccak backend first)

__version__ = "0.1.0"

from .config import MiningMode, NodeConfig  # noqa: E402
from .errors import ChainError  # noqa: E402
from .node import Node  # noqa: E402

__all__ = ["Node", "NodeConfig", "MiningMode", "ChainError", "__version__"]
