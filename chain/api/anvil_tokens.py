"""Funding accounts in tests: native balance top-ups and ERC-20 balances and allowances written straight into
the token's storage, the slot found the way anvil finds it (read the getter, try each slot it loaded)."""

from __future__ import annotations

from typing import Any

from eth_abi import encode as abi_encode

from ..errors import ExecutionError, InvalidParams
from ..execution import PENDING
from ..node import Node
from ..rpc import format as fmt
from ..rpc import params as p
from ..rpc.params import CallRequest
from ..rpc.registry import rpc

BALANCE_OF = bytes.fromhex("70a08231")  # balanceOf(address)
ALLOWANCE = bytes.fromhex("dd62ed3e")  # allowance(address,address)


class AnvilTokensApi:
    def __init__(self, node: Node) -> None:
        self.node = node

    @rpc("anvil_addBalance", "hardhat_addBalance")
    def add_balance(self, params: Any) -> None:
        """Add wei to an account's balance."""
        address, amount = p.positional(params, 2, 2, "anvil_addBalance")
        addr, wei = p.address(address, "address"), p.quantity(amount, "amount")
        with self.node.lock:
            total = self.node.backend.balance(addr, self.node.backend.head.number) + wei
            if total >= 2**256:
                raise InvalidParams("invalid amount: the balance would not fit in 256 bits")
            self.node.edit(lambda o: o.set_balance(addr, total))
        return None

    @rpc("anvil_setERC20Balance", "anvil_dealERC20")
    def set_erc20_balance(self, params: Any) -> None:
        """Set `account`'s balance of an ERC-20 token (the slot `balanceOf` reads is found and written)."""
        token, account, amount = p.positional(params, 3, 3, "anvil_setERC20Balance")
        call = BALANCE_OF + abi_encode(["address"], [p.address(account, "account")])
        self._write_through(p.address(token, "token"), call, p.quantity(amount, "amount"), "balance")
        return None

    @rpc("anvil_setERC20Allowance")
    def set_erc20_allowance(self, params: Any) -> None:
        """Set how much `spender` may move of `owner`'s tokens (the slot `allowance` reads is found and written)."""
        token, owner, spender, amount = p.positional(params, 4, 4, "anvil_setERC20Allowance")
        call = ALLOWANCE + abi_encode(["address", "address"],
                                      [p.address(owner, "owner"), p.address(spender, "spender")])
        self._write_through(p.address(token, "token"), call, p.quantity(amount, "amount"), "allowance")
        return None

    def _write_through(self, token: bytes, call: bytes, amount: int, what: str) -> None:
        """Find the storage slot of `token` whose value the view `call` returns, and set it to `amount`."""
        with self.node.lock:
            executor = self.node.executor
            request = CallRequest(to=token, data=call)
            first = executor.run(request, PENDING)
            if first.error is not None or len(first.output) < 32:
                raise ExecutionError(f"{fmt.addr(token)} does not answer the ERC-20 {what} getter")
            slots = [slot for address, found in first.access_list if address == token for slot in found]
            marker = (int.from_bytes(bytes(first.output[:32]), "big") + 0x5EED) % 2**256  # differs from the value now
            for slot in reversed(slots):  # the value read last is usually the one returned
                probe = executor.run(request, PENDING, {fmt.addr(token): {"stateDiff": {
                    "0x" + slot.to_bytes(32, "big").hex(): "0x" + marker.to_bytes(32, "big").hex()}}})
                if probe.error is None and int.from_bytes(bytes(probe.output[:32]), "big") == marker:
                    self.node.edit(lambda o, slot=slot: o.set_storage(token, slot, amount))
                    return
            raise ExecutionError(f"could not find the storage slot of the {what} of {fmt.addr(token)}: its getter "
                                 "does not read it from a plain storage slot")
