# pragma version 0.4.3
"""
@title AMM pair (PancakeSwap v2 semantics)
@notice A constant-product pool of two tokens that is also the ERC-20 of its
        liquidity shares. mint/burn/swap/skim/sync as Uniswap/PancakeSwap v2;
        the swap fee (basis points) is fixed at creation: 25 for PancakeSwap,
        30 for Uniswap. Deployed by the factory from a blueprint.
@dev Revert strings start with "pair:". Cumulative prices wrap on overflow by
     design (UQ112x112 fixed point), as in Uniswap v2.
"""

from ethereum.ercs import IERC20

from interfaces import IAmmFactory as IFactory
from interfaces import IPancakeCallee as ICallee

event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256

event Mint:
    sender: indexed(address)
    amount0: uint256
    amount1: uint256

event Burn:
    sender: indexed(address)
    amount0: uint256
    amount1: uint256
    to: indexed(address)

event Swap:
    sender: indexed(address)
    amount0In: uint256
    amount1In: uint256
    amount0Out: uint256
    amount1Out: uint256
    to: indexed(address)

event Sync:
    reserve0: uint112
    reserve1: uint112


MINIMUM_LIQUIDITY: public(constant(uint256)) = 10 ** 3
FEE_DENOMINATOR: constant(uint256) = 10_000
Q112: constant(uint256) = 2 ** 112

name: public(constant(String[32])) = "Bourse LPs"
symbol: public(constant(String[8])) = "BRS-LP"
decimals: public(constant(uint8)) = 18
totalSupply: public(uint256)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])

factory: public(immutable(address))
token0: public(immutable(address))
token1: public(immutable(address))
swapFeeBps: public(immutable(uint256))

reserve0: uint112
reserve1: uint112
blockTimestampLast: uint32
price0CumulativeLast: public(uint256)
price1CumulativeLast: public(uint256)
kLast: public(uint256)


@deploy
def __init__(token0_: address, token1_: address, swap_fee_bps: uint256):
    assert swap_fee_bps < FEE_DENOMINATOR, "pair: fee too high"
    factory = msg.sender
    token0 = token0_
    token1 = token1_
    swapFeeBps = swap_fee_bps


@view
@external
def getReserves() -> (uint112, uint112, uint32):
    """
    @notice Reserves as of the last sync, and when that was.
    @return reserve0, reserve1, block timestamp (mod 2**32) of the last update.
    """
    return self.reserve0, self.reserve1, self.blockTimestampLast


@external
@nonreentrant
def mint(to: address) -> uint256:
    """
    @notice Mint liquidity for tokens already sent to the pair (routers do this).
    @param to Receiver of the liquidity tokens.
    @return Liquidity minted.
    """
    reserve0: uint256 = convert(self.reserve0, uint256)
    reserve1: uint256 = convert(self.reserve1, uint256)
    balance0: uint256 = staticcall IERC20(token0).balanceOf(self)
    balance1: uint256 = staticcall IERC20(token1).balanceOf(self)
    amount0: uint256 = balance0 - reserve0
    amount1: uint256 = balance1 - reserve1
    fee_on: bool = self._mint_fee(reserve0, reserve1)
    supply: uint256 = self.totalSupply  # after _mint_fee, which may have minted
    liquidity: uint256 = 0
    if supply == 0:
        liquidity = isqrt(amount0 * amount1)
        assert liquidity > MINIMUM_LIQUIDITY, "pair: insufficient liquidity minted"
        liquidity -= MINIMUM_LIQUIDITY
        self._mint(empty(address), MINIMUM_LIQUIDITY)  # locked forever
    else:
        liquidity = min(amount0 * supply // reserve0, amount1 * supply // reserve1)
    assert liquidity > 0, "pair: insufficient liquidity minted"
    self._mint(to, liquidity)
    self._update(balance0, balance1, reserve0, reserve1)
    if fee_on:
        self.kLast = convert(self.reserve0, uint256) * convert(self.reserve1, uint256)
    log Mint(sender=msg.sender, amount0=amount0, amount1=amount1)
    return liquidity


@external
@nonreentrant
def burn(to: address) -> (uint256, uint256):
    """
    @notice Burn the liquidity tokens sent to the pair and pay out both tokens pro rata.
    @param to Receiver of the tokens.
    @return amount0, amount1 paid out.
    """
    reserve0: uint256 = convert(self.reserve0, uint256)
    reserve1: uint256 = convert(self.reserve1, uint256)
    balance0: uint256 = staticcall IERC20(token0).balanceOf(self)
    balance1: uint256 = staticcall IERC20(token1).balanceOf(self)
    liquidity: uint256 = self.balanceOf[self]
    fee_on: bool = self._mint_fee(reserve0, reserve1)
    supply: uint256 = self.totalSupply
    amount0: uint256 = liquidity * balance0 // supply
    amount1: uint256 = liquidity * balance1 // supply
    assert amount0 > 0 and amount1 > 0, "pair: insufficient liquidity burned"
    self._burn(self, liquidity)
    self._safe_transfer(token0, to, amount0)
    self._safe_transfer(token1, to, amount1)
    balance0 = staticcall IERC20(token0).balanceOf(self)
    balance1 = staticcall IERC20(token1).balanceOf(self)
    self._update(balance0, balance1, reserve0, reserve1)
    if fee_on:
        self.kLast = convert(self.reserve0, uint256) * convert(self.reserve1, uint256)
    log Burn(sender=msg.sender, amount0=amount0, amount1=amount1, to=to)
    return amount0, amount1


@external
@nonreentrant
def swap(amount0Out: uint256, amount1Out: uint256, to: address, data: Bytes[1024]):
    """
    @notice Send out tokens, then require that enough came in: the fee-adjusted product
            of balances must not fall below the product of reserves (the K check).
    @param amount0Out Token0 to send.
    @param amount1Out Token1 to send.
    @param to Receiver (not a pool token).
    @param data Non-empty: call `pancakeCall` on `to` first (flash swap).
    """
    assert amount0Out > 0 or amount1Out > 0, "pair: insufficient output amount"
    reserve0: uint256 = convert(self.reserve0, uint256)
    reserve1: uint256 = convert(self.reserve1, uint256)
    assert amount0Out < reserve0 and amount1Out < reserve1, "pair: insufficient liquidity"
    assert to != token0 and to != token1, "pair: invalid to"
    if amount0Out > 0:
        self._safe_transfer(token0, to, amount0Out)
    if amount1Out > 0:
        self._safe_transfer(token1, to, amount1Out)
    if len(data) > 0:
        extcall ICallee(to).pancakeCall(msg.sender, amount0Out, amount1Out, data)
    balance0: uint256 = staticcall IERC20(token0).balanceOf(self)
    balance1: uint256 = staticcall IERC20(token1).balanceOf(self)
    amount0In: uint256 = 0
    amount1In: uint256 = 0
    if balance0 > reserve0 - amount0Out:
        amount0In = balance0 - (reserve0 - amount0Out)
    if balance1 > reserve1 - amount1Out:
        amount1In = balance1 - (reserve1 - amount1Out)
    assert amount0In > 0 or amount1In > 0, "pair: insufficient input amount"
    adjusted0: uint256 = balance0 * FEE_DENOMINATOR - amount0In * swapFeeBps
    adjusted1: uint256 = balance1 * FEE_DENOMINATOR - amount1In * swapFeeBps
    assert adjusted0 * adjusted1 >= reserve0 * reserve1 * FEE_DENOMINATOR ** 2, "pair: K"
    self._update(balance0, balance1, reserve0, reserve1)
    log Swap(sender=msg.sender, amount0In=amount0In, amount1In=amount1In, amount0Out=amount0Out,
             amount1Out=amount1Out, to=to)


@external
@nonreentrant
def skim(to: address):
    """
    @notice Send any balance above the reserves to `to`.
    @param to Receiver of the excess.
    """
    self._safe_transfer(token0, to, staticcall IERC20(token0).balanceOf(self) - convert(self.reserve0, uint256))
    self._safe_transfer(token1, to, staticcall IERC20(token1).balanceOf(self) - convert(self.reserve1, uint256))


@external
@nonreentrant
def sync():
    """
    @notice Set the reserves to the balances.
    """
    self._update(staticcall IERC20(token0).balanceOf(self), staticcall IERC20(token1).balanceOf(self),
                 convert(self.reserve0, uint256), convert(self.reserve1, uint256))


# -- LP token -------------------------------------------------------------------------
@external
def transfer(receiver: address, amount: uint256) -> bool:
    """
    @notice Move liquidity tokens.
    @param receiver Recipient.
    @param amount Amount.
    @return True.
    """
    self._transfer(msg.sender, receiver, amount)
    return True


@external
def transferFrom(owner: address, receiver: address, amount: uint256) -> bool:
    """
    @notice Move liquidity tokens with an allowance.
    @param owner Account the tokens leave.
    @param receiver Recipient.
    @param amount Amount.
    @return True.
    """
    allowed: uint256 = self.allowance[owner][msg.sender]
    if allowed != max_value(uint256):
        assert allowed >= amount, "pair: insufficient allowance"
        self.allowance[owner][msg.sender] = allowed - amount
    self._transfer(owner, receiver, amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    """
    @notice Allow `spender` to move `amount` liquidity tokens.
    @param spender The allowed account.
    @param amount The allowance.
    @return True.
    """
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True


# -- internals ------------------------------------------------------------------------
@internal
def _update(balance0: uint256, balance1: uint256, reserve0: uint256, reserve1: uint256):
    assert balance0 <= convert(max_value(uint112), uint256) and balance1 <= convert(max_value(uint112), uint256), \
        "pair: overflow"
    now: uint32 = convert(block.timestamp % 2 ** 32, uint32)
    elapsed: uint32 = unsafe_sub(now, self.blockTimestampLast)
    if elapsed > 0 and reserve0 != 0 and reserve1 != 0:
        self.price0CumulativeLast = unsafe_add(
            self.price0CumulativeLast, unsafe_mul(reserve1 * Q112 // reserve0, convert(elapsed, uint256)))
        self.price1CumulativeLast = unsafe_add(
            self.price1CumulativeLast, unsafe_mul(reserve0 * Q112 // reserve1, convert(elapsed, uint256)))
    self.reserve0 = convert(balance0, uint112)
    self.reserve1 = convert(balance1, uint112)
    self.blockTimestampLast = now
    log Sync(reserve0=self.reserve0, reserve1=self.reserve1)


@internal
def _mint_fee(reserve0: uint256, reserve1: uint256) -> bool:
    """The protocol's share (1/4 of fee growth, as PancakeSwap) when the factory's feeTo is set."""
    fee_to: address = staticcall IFactory(factory).feeTo()
    fee_on: bool = fee_to != empty(address)
    k_last: uint256 = self.kLast
    if fee_on:
        if k_last != 0:
            root_k: uint256 = isqrt(reserve0 * reserve1)
            root_k_last: uint256 = isqrt(k_last)
            if root_k > root_k_last:
                numerator: uint256 = self.totalSupply * (root_k - root_k_last)
                denominator: uint256 = root_k * 3 + root_k_last
                liquidity: uint256 = numerator // denominator
                if liquidity > 0:
                    self._mint(fee_to, liquidity)
    elif k_last != 0:
        self.kLast = 0
    return fee_on


@internal
def _mint(to: address, amount: uint256):
    self.totalSupply += amount
    self.balanceOf[to] += amount
    log Transfer(sender=empty(address), receiver=to, value=amount)


@internal
def _burn(owner: address, amount: uint256):
    self.balanceOf[owner] -= amount
    self.totalSupply -= amount
    log Transfer(sender=owner, receiver=empty(address), value=amount)


@internal
def _transfer(owner: address, receiver: address, amount: uint256):
    balance: uint256 = self.balanceOf[owner]
    assert balance >= amount, "pair: transfer exceeds balance"
    self.balanceOf[owner] = balance - amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=owner, receiver=receiver, value=amount)


@internal
def _safe_transfer(token: address, to: address, amount: uint256):
    response: Bytes[32] = raw_call(
        token, abi_encode(to, amount, method_id=method_id("transfer(address,uint256)")), max_outsize=32)
    if len(response) > 0:
        assert convert(response, bool), "pair: transfer failed"
