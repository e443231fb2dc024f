# pragma version 0.4.3
# Test helper: a contract wallet whose receive hook needs more than send()'s 2,300 gas (it writes storage).

interface IVault:
    def depositNative(): payable
    def requestWithdrawal(token: address, amount: uint256): nonpayable
    def withdraw(token: address): nonpayable

received: public(uint256)


@payable
@external
def deposit(vault: address):
    extcall IVault(vault).depositNative(value=msg.value)


@external
def request(vault: address, amount: uint256):
    extcall IVault(vault).requestWithdrawal(empty(address), amount)


@external
def withdraw(vault: address):
    extcall IVault(vault).withdraw(empty(address))


@payable
@external
def __default__():
    self.received += msg.value
