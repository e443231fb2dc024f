# pragma version 0.4.3
"""
@title Wrapped native coin (WBNB-style)
@notice Deposit the chain's native coin and get the same amount of this ERC-20;
        withdraw to turn it back. Sending native coin to the contract deposits.
@dev Revert strings start with "wrapped:".
"""

from ethereum.ercs import IERC20
from ethereum.ercs import IERC20Detailed

implements: IERC20
implements: IERC20Detailed

event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256

event Deposit:
    account: indexed(address)
    value: uint256

event Withdrawal:
    account: indexed(address)
    value: uint256


name: public(String[64])
symbol: public(String[32])
decimals: public(uint8)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])


@deploy
def __init__(name_: String[64], symbol_: String[32]):
    self.name = name_
    self.symbol = symbol_
    self.decimals = 18


@payable
@external
def __default__():
    """
    @notice Plain native transfers deposit.
    """
    self._deposit()


@payable
@external
def deposit():
    """
    @notice Wrap the attached native coin 1:1.
    """
    self._deposit()


@external
@nonreentrant
def withdraw(amount: uint256):
    """
    @notice Unwrap `amount` and send the native coin to the caller.
    @param amount Amount to unwrap.
    """
    balance: uint256 = self.balanceOf[msg.sender]
    assert balance >= amount, "wrapped: withdraw exceeds balance"
    self.balanceOf[msg.sender] = balance - amount
    log Withdrawal(account=msg.sender, value=amount)
    send(msg.sender, amount)


@view
@external
def totalSupply() -> uint256:
    """
    @notice All wrapped coin: the native balance the contract holds.
    @return The supply.
    """
    return self.balance


@external
def transfer(receiver: address, amount: uint256) -> bool:
    """
    @notice Move `amount` from the caller to `receiver`.
    @param receiver Recipient.
    @param amount Amount.
    @return True.
    """
    self._transfer(msg.sender, receiver, amount)
    return True


@external
def transferFrom(owner: address, receiver: address, amount: uint256) -> bool:
    """
    @notice Move `amount` from `owner` to `receiver` using the caller's allowance.
    @param owner Account the tokens leave.
    @param receiver Recipient.
    @param amount Amount.
    @return True.
    """
    if owner != msg.sender:
        allowed: uint256 = self.allowance[owner][msg.sender]
        if allowed != max_value(uint256):
            assert allowed >= amount, "wrapped: insufficient allowance"
            self.allowance[owner][msg.sender] = allowed - amount
    self._transfer(owner, receiver, amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    """
    @notice Let `spender` move up to `amount` of the caller's tokens.
    @param spender The allowed account.
    @param amount The allowance (max uint256: unlimited).
    @return True.
    """
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True


@internal
@payable
def _deposit():
    self.balanceOf[msg.sender] += msg.value
    log Deposit(account=msg.sender, value=msg.value)


@internal
def _transfer(owner: address, receiver: address, amount: uint256):
    balance: uint256 = self.balanceOf[owner]
    assert balance >= amount, "wrapped: transfer exceeds balance"
    self.balanceOf[owner] = balance - amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=owner, receiver=receiver, value=amount)
