# pragma version 0.4.3
"""
@title AMM factory (PancakeSwap v2 semantics)
@notice Creates one pair per token pair (CREATE2 from the pair blueprint, so
        addresses are predictable), lists them, and holds the protocol fee switch.
@dev Revert strings start with "factory:".
"""

event PairCreated:
    token0: indexed(address)
    token1: indexed(address)
    pair: address
    allPairsLength: uint256


pairBlueprint: public(immutable(address))
swapFeeBps: public(immutable(uint256))
feeTo: public(address)
feeToSetter: public(address)
getPair: public(HashMap[address, HashMap[address, address]])
allPairs: public(HashMap[uint256, address])
allPairsLength: public(uint256)


@deploy
def __init__(pair_blueprint: address, swap_fee_bps: uint256, fee_to_setter: address):
    assert swap_fee_bps < 10_000, "factory: fee too high"
    pairBlueprint = pair_blueprint
    swapFeeBps = swap_fee_bps
    self.feeToSetter = fee_to_setter


@external
def createPair(tokenA: address, tokenB: address) -> address:
    """
    @notice Create the pool for two tokens (in either order).
    @param tokenA One token.
    @param tokenB The other token.
    @return The new pair's address.
    """
    assert tokenA != tokenB, "factory: identical addresses"
    token0: address = tokenA
    token1: address = tokenB
    if convert(tokenB, uint160) < convert(tokenA, uint160):
        token0 = tokenB
        token1 = tokenA
    assert token0 != empty(address), "factory: zero address"
    assert self.getPair[token0][token1] == empty(address), "factory: pair exists"
    pair: address = create_from_blueprint(
        pairBlueprint, token0, token1, swapFeeBps, salt=keccak256(concat(convert(token0, bytes20),
                                                                           convert(token1, bytes20))))
    self.getPair[token0][token1] = pair
    self.getPair[token1][token0] = pair
    length: uint256 = self.allPairsLength
    self.allPairs[length] = pair
    self.allPairsLength = length + 1
    log PairCreated(token0=token0, token1=token1, pair=pair, allPairsLength=length + 1)
    return pair


@external
def setFeeTo(fee_to: address):
    """
    @notice Turn the protocol fee on (send it to `fee_to`) or off (zero address).
    @param fee_to Receiver of the protocol's liquidity share.
    """
    assert msg.sender == self.feeToSetter, "factory: forbidden"
    self.feeTo = fee_to


@external
def setFeeToSetter(fee_to_setter: address):
    """
    @notice Hand the fee switch to another account.
    @param fee_to_setter The next setter.
    """
    assert msg.sender == self.feeToSetter, "factory: forbidden"
    self.feeToSetter = fee_to_setter
