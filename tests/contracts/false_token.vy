# pragma version 0.4.3
# Test helper: an ERC-20 that reports failure by returning false (as some old tokens do).

balances: public(HashMap[address, uint256])


@external
def set_balance(who: address, amount: uint256):
    self.balances[who] = amount


@view
@external
def balanceOf(who: address) -> uint256:
    return self.balances[who]


@external
def transfer(receiver: address, amount: uint256) -> bool:
    return False


@external
def transferFrom(owner: address, receiver: address, amount: uint256) -> bool:
    return False


@external
def approve(spender: address, amount: uint256) -> bool:
    return True
