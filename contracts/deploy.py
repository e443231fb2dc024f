"""Deploy the contracts and get web3 contract objects, against any JSON-RPC node.

    from web3 import Web3
    from contracts.deploy import at, deploy, platform
    w3 = Web3(Web3.HTTPProvider("http://127.0.0.1:8545"))
    token = deploy(w3, "PlatformToken", "Test", "TST", 10**24, sender=w3.eth.accounts[0])
    router = platform(w3)["AmmRouter"]     # the predeployed ones on `bourse node`
"""

from __future__ import annotations

from typing import Any

from .artifacts import load
from .errors import DeploymentFailed
from .predeploy import PREDEPLOYS


def deploy(w3: Any, name: str, *args: Any, sender: str | None = None, blueprint: bool = False,
           timeout: float = 120) -> Any:
    """Deploy `name` with constructor `args` from `sender` (default: the node's first account).

    `blueprint=True` deploys the ERC-5202 blueprint, for factories that create from it.
    """
    artifact = load(name)
    sender = sender or w3.eth.accounts[0]
    if blueprint:
        tx_hash = w3.eth.send_transaction({"from": sender, "data": artifact.blueprint_bytecode})
    else:
        factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        tx_hash = factory.constructor(*args).transact({"from": sender})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout)
    if receipt["status"] != 1:
        raise DeploymentFailed(name, tx_hash.hex())
    return at(w3, name, receipt["contractAddress"])


def at(w3: Any, name: str, address: str) -> Any:
    """A web3 contract object for an existing deployment."""
    return w3.eth.contract(address=address, abi=load(name).abi)


def platform(w3: Any) -> dict[str, Any]:
    """The contracts `bourse node` predeploys, by artifact name."""
    return {p.name: at(w3, p.name, p.address) for p in PREDEPLOYS if not p.blueprint}


def deploy_exchange_contracts(w3: Any, sender: str | None = None) -> dict[str, Any]:
    """The platform token, wrapped native coin and settlement vault on a node without Bourse's predeploys (anvil,
    geth, a testnet), with the same constructor arguments `bourse node` uses. Returns contract objects by name."""
    from .predeploy import FEE_DISCOUNT_BPS, TOKEN_NAME, TOKEN_SUPPLY, TOKEN_SYMBOL, WITHDRAWAL_DELAY_BLOCKS, \
        WRAPPED_NAME, WRAPPED_SYMBOL
    token = deploy(w3, "PlatformToken", TOKEN_NAME, TOKEN_SYMBOL, TOKEN_SUPPLY, sender=sender)
    wrapped = deploy(w3, "WrappedNative", WRAPPED_NAME, WRAPPED_SYMBOL, sender=sender)
    vault = deploy(w3, "SettlementVault", token.address, FEE_DISCOUNT_BPS, WITHDRAWAL_DELAY_BLOCKS, sender=sender)
    return {"PlatformToken": token, "WrappedNative": wrapped, "SettlementVault": vault}
