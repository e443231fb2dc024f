# pragma version 0.4.3
"""
@title AMM router (PancakeSwap v2 semantics)
@notice Add and remove liquidity (native coin through the wrapped token), and
        swap along multi-hop paths with deadline and slippage checks.
@dev Revert strings start with "router:". Pairs are found through the
     factory's getPair; the fee comes from the factory.
"""

from ethereum.ercs import IERC20

from interfaces import IAmmFactory as IFactory
from interfaces import IAmmPair as IPair
from interfaces import IWrappedNative as IWrapped


MAX_HOPS: constant(uint256) = 8
FEE_DENOMINATOR: constant(uint256) = 10_000

factory: public(immutable(address))
WETH: public(immutable(address))


@deploy
def __init__(factory_: address, wrapped_native: address):
    factory = factory_
    WETH = wrapped_native


@payable
@external
def __default__():
    """
    @notice Accept native coin only from the wrapped-coin contract (on withdraw).
    """
    assert msg.sender == WETH, "router: only from wrapped native"


# -- liquidity ---------------------------------------------------------------------------
@external
def addLiquidity(tokenA: address, tokenB: address, amountADesired: uint256, amountBDesired: uint256,
                 amountAMin: uint256, amountBMin: uint256, to: address, deadline: uint256) -> (uint256, uint256, uint256):
    """
    @notice Add liquidity at the current ratio (creating the pair if needed).
    @param tokenA One token.
    @param tokenB The other token.
    @param amountADesired Most of A to add.
    @param amountBDesired Most of B to add.
    @param amountAMin Least of A to add (slippage bound).
    @param amountBMin Least of B to add (slippage bound).
    @param to Receiver of the liquidity tokens.
    @param deadline Last valid timestamp.
    @return amountA, amountB, liquidity.
    """
    self._ensure(deadline)
    amount_a: uint256 = 0
    amount_b: uint256 = 0
    amount_a, amount_b = self._add_liquidity(tokenA, tokenB, amountADesired, amountBDesired, amountAMin, amountBMin)
    pair: address = self._pair(tokenA, tokenB)
    self._transfer_from(tokenA, msg.sender, pair, amount_a)
    self._transfer_from(tokenB, msg.sender, pair, amount_b)
    liquidity: uint256 = extcall IPair(pair).mint(to)
    return amount_a, amount_b, liquidity


@payable
@external
def addLiquidityETH(token: address, amountTokenDesired: uint256, amountTokenMin: uint256, amountETHMin: uint256,
                    to: address, deadline: uint256) -> (uint256, uint256, uint256):
    """
    @notice Add liquidity against the native coin (wrapped on the way in; the unused rest is refunded).
    @param token The token.
    @param amountTokenDesired Most of the token to add.
    @param amountTokenMin Least of the token to add.
    @param amountETHMin Least native coin to add.
    @param to Receiver of the liquidity tokens.
    @param deadline Last valid timestamp.
    @return amountToken, amountETH, liquidity.
    """
    self._ensure(deadline)
    amount_token: uint256 = 0
    amount_eth: uint256 = 0
    amount_token, amount_eth = self._add_liquidity(token, WETH, amountTokenDesired, msg.value, amountTokenMin,
                                                   amountETHMin)
    pair: address = self._pair(token, WETH)
    self._transfer_from(token, msg.sender, pair, amount_token)
    extcall IWrapped(WETH).deposit(value=amount_eth)
    assert extcall IWrapped(WETH).transfer(pair, amount_eth), "router: wrapped transfer failed"
    liquidity: uint256 = extcall IPair(pair).mint(to)
    if msg.value > amount_eth:
        self._pay_native(msg.sender, msg.value - amount_eth)
    return amount_token, amount_eth, liquidity


@external
def removeLiquidity(tokenA: address, tokenB: address, liquidity: uint256, amountAMin: uint256, amountBMin: uint256,
                    to: address, deadline: uint256) -> (uint256, uint256):
    """
    @notice Burn liquidity tokens for both tokens.
    @param tokenA One token.
    @param tokenB The other token.
    @param liquidity Liquidity tokens to burn (approved to the router).
    @param amountAMin Least of A to receive.
    @param amountBMin Least of B to receive.
    @param to Receiver of the tokens.
    @param deadline Last valid timestamp.
    @return amountA, amountB.
    """
    self._ensure(deadline)
    return self._remove_liquidity(tokenA, tokenB, liquidity, amountAMin, amountBMin, to)


@external
def removeLiquidityETH(token: address, liquidity: uint256, amountTokenMin: uint256, amountETHMin: uint256,
                       to: address, deadline: uint256) -> (uint256, uint256):
    """
    @notice Burn liquidity tokens of a native-coin pair; the native side is unwrapped.
    @param token The token.
    @param liquidity Liquidity tokens to burn.
    @param amountTokenMin Least of the token to receive.
    @param amountETHMin Least native coin to receive.
    @param to Receiver.
    @param deadline Last valid timestamp.
    @return amountToken, amountETH.
    """
    self._ensure(deadline)
    amount_token: uint256 = 0
    amount_eth: uint256 = 0
    amount_token, amount_eth = self._remove_liquidity(token, WETH, liquidity, amountTokenMin, amountETHMin, self)
    self._transfer(token, to, amount_token)
    extcall IWrapped(WETH).withdraw(amount_eth)
    self._pay_native(to, amount_eth)
    return amount_token, amount_eth


# -- swaps -----------------------------------------------------------------------------------
@external
def swapExactTokensForTokens(amountIn: uint256, amountOutMin: uint256, path: DynArray[address, MAX_HOPS],
                             to: address, deadline: uint256) -> DynArray[uint256, MAX_HOPS]:
    """
    @notice Swap exactly `amountIn` of path[0] for at least `amountOutMin` of the last token.
    @param amountIn Input amount.
    @param amountOutMin Least output (slippage bound).
    @param path Tokens from input to output.
    @param to Receiver of the output.
    @param deadline Last valid timestamp.
    @return Amounts at every hop.
    """
    self._ensure(deadline)
    amounts: DynArray[uint256, MAX_HOPS] = self._amounts_out(amountIn, path)
    assert amounts[len(amounts) - 1] >= amountOutMin, "router: insufficient output amount"
    self._transfer_from(path[0], msg.sender, self._pair(path[0], path[1]), amounts[0])
    self._swap(amounts, path, to)
    return amounts


@external
def swapTokensForExactTokens(amountOut: uint256, amountInMax: uint256, path: DynArray[address, MAX_HOPS],
                             to: address, deadline: uint256) -> DynArray[uint256, MAX_HOPS]:
    """
    @notice Receive exactly `amountOut` of the last token for at most `amountInMax` of path[0].
    @param amountOut Output amount.
    @param amountInMax Most input (slippage bound).
    @param path Tokens from input to output.
    @param to Receiver of the output.
    @param deadline Last valid timestamp.
    @return Amounts at every hop.
    """
    self._ensure(deadline)
    amounts: DynArray[uint256, MAX_HOPS] = self._amounts_in(amountOut, path)
    assert amounts[0] <= amountInMax, "router: excessive input amount"
    self._transfer_from(path[0], msg.sender, self._pair(path[0], path[1]), amounts[0])
    self._swap(amounts, path, to)
    return amounts


@payable
@external
def swapExactETHForTokens(amountOutMin: uint256, path: DynArray[address, MAX_HOPS], to: address,
                          deadline: uint256) -> DynArray[uint256, MAX_HOPS]:
    """
    @notice Swap all attached native coin (path[0] must be the wrapped coin).
    @param amountOutMin Least output.
    @param path Tokens from the wrapped coin to the output.
    @param to Receiver.
    @param deadline Last valid timestamp.
    @return Amounts at every hop.
    """
    self._ensure(deadline)
    assert path[0] == WETH, "router: invalid path"
    amounts: DynArray[uint256, MAX_HOPS] = self._amounts_out(msg.value, path)
    assert amounts[len(amounts) - 1] >= amountOutMin, "router: insufficient output amount"
    self._wrap_to(self._pair(path[0], path[1]), amounts[0])
    self._swap(amounts, path, to)
    return amounts


@external
def swapTokensForExactETH(amountOut: uint256, amountInMax: uint256, path: DynArray[address, MAX_HOPS], to: address,
                          deadline: uint256) -> DynArray[uint256, MAX_HOPS]:
    """
    @notice Receive exactly `amountOut` native coin (the path ends at the wrapped coin).
    @param amountOut Native coin to receive.
    @param amountInMax Most input.
    @param path Tokens from the input to the wrapped coin.
    @param to Receiver.
    @param deadline Last valid timestamp.
    @return Amounts at every hop.
    """
    self._ensure(deadline)
    assert path[len(path) - 1] == WETH, "router: invalid path"
    amounts: DynArray[uint256, MAX_HOPS] = self._amounts_in(amountOut, path)
    assert amounts[0] <= amountInMax, "router: excessive input amount"
    self._transfer_from(path[0], msg.sender, self._pair(path[0], path[1]), amounts[0])
    self._swap(amounts, path, self)
    self._unwrap_to(to, amounts[len(amounts) - 1])
    return amounts


@external
def swapExactTokensForETH(amountIn: uint256, amountOutMin: uint256, path: DynArray[address, MAX_HOPS], to: address,
                          deadline: uint256) -> DynArray[uint256, MAX_HOPS]:
    """
    @notice Swap exactly `amountIn` for native coin (the path ends at the wrapped coin).
    @param amountIn Input amount.
    @param amountOutMin Least native coin out.
    @param path Tokens from the input to the wrapped coin.
    @param to Receiver.
    @param deadline Last valid timestamp.
    @return Amounts at every hop.
    """
    self._ensure(deadline)
    assert path[len(path) - 1] == WETH, "router: invalid path"
    amounts: DynArray[uint256, MAX_HOPS] = self._amounts_out(amountIn, path)
    assert amounts[len(amounts) - 1] >= amountOutMin, "router: insufficient output amount"
    self._transfer_from(path[0], msg.sender, self._pair(path[0], path[1]), amounts[0])
    self._swap(amounts, path, self)
    self._unwrap_to(to, amounts[len(amounts) - 1])
    return amounts


@payable
@external
def swapETHForExactTokens(amountOut: uint256, path: DynArray[address, MAX_HOPS], to: address,
                          deadline: uint256) -> DynArray[uint256, MAX_HOPS]:
    """
    @notice Receive exactly `amountOut` for at most the attached native coin; the rest is refunded.
    @param amountOut Output amount.
    @param path Tokens from the wrapped coin to the output.
    @param to Receiver.
    @param deadline Last valid timestamp.
    @return Amounts at every hop.
    """
    self._ensure(deadline)
    assert path[0] == WETH, "router: invalid path"
    amounts: DynArray[uint256, MAX_HOPS] = self._amounts_in(amountOut, path)
    assert amounts[0] <= msg.value, "router: excessive input amount"
    self._wrap_to(self._pair(path[0], path[1]), amounts[0])
    self._swap(amounts, path, to)
    if msg.value > amounts[0]:
        self._pay_native(msg.sender, msg.value - amounts[0])
    return amounts


# -- quotes -------------------------------------------------------------------------------------
@pure
@external
def quote(amountA: uint256, reserveA: uint256, reserveB: uint256) -> uint256:
    """
    @notice The amount of B worth `amountA` at the reserves' ratio (no fee).
    @param amountA Amount of A.
    @param reserveA Reserve of A.
    @param reserveB Reserve of B.
    @return Amount of B.
    """
    return self._quote(amountA, reserveA, reserveB)


@view
@external
def getAmountOut(amountIn: uint256, reserveIn: uint256, reserveOut: uint256) -> uint256:
    """
    @notice Output of one hop after the swap fee.
    @param amountIn Input.
    @param reserveIn Reserve of the input token.
    @param reserveOut Reserve of the output token.
    @return Output.
    """
    return self._amount_out(amountIn, reserveIn, reserveOut, staticcall IFactory(factory).swapFeeBps())


@view
@external
def getAmountIn(amountOut: uint256, reserveIn: uint256, reserveOut: uint256) -> uint256:
    """
    @notice Input one hop needs for `amountOut` after the swap fee.
    @param amountOut Output wanted.
    @param reserveIn Reserve of the input token.
    @param reserveOut Reserve of the output token.
    @return Input.
    """
    return self._amount_in(amountOut, reserveIn, reserveOut, staticcall IFactory(factory).swapFeeBps())


@view
@external
def getAmountsOut(amountIn: uint256, path: DynArray[address, MAX_HOPS]) -> DynArray[uint256, MAX_HOPS]:
    """
    @notice Amounts along `path` for an exact input.
    @param amountIn Input.
    @param path Tokens.
    @return Amounts at every hop.
    """
    return self._amounts_out(amountIn, path)


@view
@external
def getAmountsIn(amountOut: uint256, path: DynArray[address, MAX_HOPS]) -> DynArray[uint256, MAX_HOPS]:
    """
    @notice Amounts along `path` for an exact output.
    @param amountOut Output.
    @param path Tokens.
    @return Amounts at every hop.
    """
    return self._amounts_in(amountOut, path)


# -- internals ------------------------------------------------------------------------------------
@view
@internal
def _ensure(deadline: uint256):
    assert block.timestamp <= deadline, "router: expired"


@view
@internal
def _pair(a: address, b: address) -> address:
    pair: address = staticcall IFactory(factory).getPair(a, b)
    assert pair != empty(address), "router: no pair"
    return pair


@view
@internal
def _reserves(a: address, b: address) -> (uint256, uint256):
    pair: address = self._pair(a, b)
    r0: uint112 = 0
    r1: uint112 = 0
    ts: uint32 = 0
    r0, r1, ts = staticcall IPair(pair).getReserves()
    if convert(a, uint160) < convert(b, uint160):
        return convert(r0, uint256), convert(r1, uint256)
    return convert(r1, uint256), convert(r0, uint256)


@pure
@internal
def _quote(amount_a: uint256, reserve_a: uint256, reserve_b: uint256) -> uint256:
    assert amount_a > 0, "router: insufficient amount"
    assert reserve_a > 0 and reserve_b > 0, "router: insufficient liquidity"
    return amount_a * reserve_b // reserve_a


@pure
@internal
def _amount_out(amount_in: uint256, reserve_in: uint256, reserve_out: uint256, fee: uint256) -> uint256:
    assert amount_in > 0, "router: insufficient input amount"
    assert reserve_in > 0 and reserve_out > 0, "router: insufficient liquidity"
    with_fee: uint256 = amount_in * (FEE_DENOMINATOR - fee)
    return with_fee * reserve_out // (reserve_in * FEE_DENOMINATOR + with_fee)


@pure
@internal
def _amount_in(amount_out: uint256, reserve_in: uint256, reserve_out: uint256, fee: uint256) -> uint256:
    assert amount_out > 0, "router: insufficient output amount"
    assert reserve_in > 0 and reserve_out > amount_out, "router: insufficient liquidity"
    return reserve_in * amount_out * FEE_DENOMINATOR // ((reserve_out - amount_out) * (FEE_DENOMINATOR - fee)) + 1


@view
@internal
def _amounts_out(amount_in: uint256, path: DynArray[address, MAX_HOPS]) -> DynArray[uint256, MAX_HOPS]:
    assert len(path) >= 2, "router: invalid path"
    fee: uint256 = staticcall IFactory(factory).swapFeeBps()
    amounts: DynArray[uint256, MAX_HOPS] = [amount_in]
    for i: uint256 in range(MAX_HOPS - 1):
        if i + 1 >= len(path):
            break
        reserve_in: uint256 = 0
        reserve_out: uint256 = 0
        reserve_in, reserve_out = self._reserves(path[i], path[i + 1])
        amounts.append(self._amount_out(amounts[i], reserve_in, reserve_out, fee))
    return amounts


@view
@internal
def _amounts_in(amount_out: uint256, path: DynArray[address, MAX_HOPS]) -> DynArray[uint256, MAX_HOPS]:
    assert len(path) >= 2, "router: invalid path"
    fee: uint256 = staticcall IFactory(factory).swapFeeBps()
    backwards: DynArray[uint256, MAX_HOPS] = [amount_out]
    for k: uint256 in range(MAX_HOPS - 1):
        if k + 1 >= len(path):
            break
        i: uint256 = len(path) - 1 - k
        reserve_in: uint256 = 0
        reserve_out: uint256 = 0
        reserve_in, reserve_out = self._reserves(path[i - 1], path[i])
        backwards.append(self._amount_in(backwards[k], reserve_in, reserve_out, fee))
    amounts: DynArray[uint256, MAX_HOPS] = []
    for k: uint256 in range(MAX_HOPS):
        if k >= len(backwards):
            break
        amounts.append(backwards[len(backwards) - 1 - k])
    return amounts


@internal
def _swap(amounts: DynArray[uint256, MAX_HOPS], path: DynArray[address, MAX_HOPS], to: address):
    for i: uint256 in range(MAX_HOPS - 1):
        if i + 1 >= len(path):
            break
        input_token: address = path[i]
        output_token: address = path[i + 1]
        amount_out: uint256 = amounts[i + 1]
        out0: uint256 = 0
        out1: uint256 = amount_out
        if convert(input_token, uint160) > convert(output_token, uint160):
            out0 = amount_out
            out1 = 0
        receiver: address = to
        if i + 2 < len(path):
            receiver = self._pair(output_token, path[i + 2])
        extcall IPair(self._pair(input_token, output_token)).swap(out0, out1, receiver, b"")


@internal
def _add_liquidity(token_a: address, token_b: address, desired_a: uint256, desired_b: uint256, min_a: uint256,
                   min_b: uint256) -> (uint256, uint256):
    if staticcall IFactory(factory).getPair(token_a, token_b) == empty(address):
        extcall IFactory(factory).createPair(token_a, token_b)
    reserve_a: uint256 = 0
    reserve_b: uint256 = 0
    reserve_a, reserve_b = self._reserves(token_a, token_b)
    if reserve_a == 0 and reserve_b == 0:
        return desired_a, desired_b
    optimal_b: uint256 = self._quote(desired_a, reserve_a, reserve_b)
    if optimal_b <= desired_b:
        assert optimal_b >= min_b, "router: insufficient B amount"
        return desired_a, optimal_b
    optimal_a: uint256 = self._quote(desired_b, reserve_b, reserve_a)
    assert optimal_a <= desired_a, "router: insufficient A amount"
    assert optimal_a >= min_a, "router: insufficient A amount"
    return optimal_a, desired_b


@internal
def _remove_liquidity(token_a: address, token_b: address, liquidity: uint256, min_a: uint256, min_b: uint256,
                      to: address) -> (uint256, uint256):
    pair: address = self._pair(token_a, token_b)
    self._transfer_from(pair, msg.sender, pair, liquidity)
    amount0: uint256 = 0
    amount1: uint256 = 0
    amount0, amount1 = extcall IPair(pair).burn(to)
    amount_a: uint256 = amount0
    amount_b: uint256 = amount1
    if convert(token_a, uint160) > convert(token_b, uint160):
        amount_a = amount1
        amount_b = amount0
    assert amount_a >= min_a, "router: insufficient A amount"
    assert amount_b >= min_b, "router: insufficient B amount"
    return amount_a, amount_b


@internal
def _wrap_to(pair: address, amount: uint256):
    extcall IWrapped(WETH).deposit(value=amount)
    assert extcall IWrapped(WETH).transfer(pair, amount), "router: wrapped transfer failed"


@internal
def _unwrap_to(to: address, amount: uint256):
    extcall IWrapped(WETH).withdraw(amount)
    self._pay_native(to, amount)


@internal
def _pay_native(to: address, amount: uint256):
    """Native coin with all the gas (PancakeSwap's safeTransferETH), so contract wallets can receive it."""
    raw_call(to, b"", value=amount)


@internal
def _transfer_from(token: address, owner: address, to: address, amount: uint256):
    response: Bytes[32] = raw_call(
        token, abi_encode(owner, to, amount, method_id=method_id("transferFrom(address,address,uint256)")),
        max_outsize=32)
    if len(response) > 0:
        assert convert(response, bool), "router: transferFrom failed"


@internal
def _transfer(token: address, to: address, amount: uint256):
    response: Bytes[32] = raw_call(
        token, abi_encode(to, amount, method_id=method_id("transfer(address,uint256)")), max_outsize=32)
    if len(response) > 0:
        assert convert(response, bool), "router: transfer failed"
