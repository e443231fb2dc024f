# pragma version 0.4.3
"""
@title Settlement vault for the off-chain order book
@notice Users deposit tokens (or the native coin, token = zero address) into
        internal balances and sign orders (EIP-712). Registered operators settle
        batches of matched fills; each fill is checked against both signed orders.
@dev Revert strings start with "settlement:".

     What a batch does with a fill that cannot settle:
     - the order was cancelled (one order or every nonce below the maker's
       minimum), has expired, or a party lacks the balance (e.g. it left through
       the escape hatch): the fill is SKIPPED with a FillSkipped event carrying a
       reason code, and the rest of the batch settles. These are races with the
       user that the operator cannot always see in time.
     - anything the operator could have checked (a bad signature, orders that do
       not match, a price outside a limit, a fill beyond the signed amount, a fee
       above the signed maximum): the WHOLE BATCH REVERTS. The matcher bisects the
       batch to find the fill, expires its order and resubmits the rest.
     Batch ids must strictly increase, so a resubmitted batch cannot pay twice.
"""

import ownable

initializes: ownable
exports: (ownable.owner, ownable.transferOwnership, ownable.renounceOwnership)

struct Order:
    maker: address
    baseToken: address
    quoteToken: address
    isBuy: bool
    baseAmount: uint256
    price: uint256  # quote units per base unit, times PRICE_SCALE
    expiry: uint256  # unix seconds
    nonce: uint256  # unique per maker (a fully filled order retires it); cancelAllBelow raises the floor
    maxFeeBps: uint256

struct Fill:
    maker: Order
    taker: Order
    makerV: uint8
    makerR: bytes32
    makerS: bytes32
    takerV: uint8
    takerR: bytes32
    takerS: bytes32
    baseAmount: uint256
    makerFee: uint256  # in the asset the maker receives
    takerFee: uint256  # in the asset the taker receives

event Deposit:
    user: indexed(address)
    token: indexed(address)
    amount: uint256

event Withdraw:
    user: indexed(address)
    token: indexed(address)
    amount: uint256

event WithdrawalRequested:
    user: indexed(address)
    token: indexed(address)
    amount: uint256
    unlockBlock: uint256

event OrderCancelled:
    maker: indexed(address)
    orderHash: indexed(bytes32)

event NonceFloorRaised:
    maker: indexed(address)
    minNonce: uint256

event Filled:
    batchId: indexed(uint256)
    makerHash: indexed(bytes32)
    takerHash: indexed(bytes32)
    baseAmount: uint256
    quoteAmount: uint256
    makerFee: uint256
    takerFee: uint256

event FillSkipped:
    batchId: indexed(uint256)
    index: uint256
    reason: uint8

event BatchSettled:
    batchId: indexed(uint256)
    fills: uint256
    skipped: uint256

event OperatorSet:
    operator: indexed(address)
    enabled: bool

event FeesInPlatformToken:
    user: indexed(address)
    enabled: bool


PRICE_SCALE: public(constant(uint256)) = 10 ** 18
MAX_FILLS: constant(uint256) = 256
BPS: constant(uint256) = 10_000
MAX_S: constant(uint256) = 57_896_044_618_658_097_711_785_492_504_343_953_926_418_782_139_537_452_191_302_581_570_759_080_747_168
EIP712_TYPEHASH: constant(bytes32) = keccak256(
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
ORDER_TYPEHASH: public(constant(bytes32)) = keccak256(
    "Order(address maker,address baseToken,address quoteToken,bool isBuy,uint256 baseAmount,uint256 price,"
    "uint256 expiry,uint256 nonce,uint256 maxFeeBps)"
)
NAME: constant(String[32]) = "Bourse Settlement"
VERSION: constant(String[8]) = "1"

# skip reasons (FillSkipped.reason)
SKIP_CANCELLED: public(constant(uint8)) = 1
SKIP_EXPIRED: public(constant(uint8)) = 2
SKIP_SELLER_BALANCE: public(constant(uint8)) = 3
SKIP_BUYER_BALANCE: public(constant(uint8)) = 4

platformToken: public(immutable(address))
balanceOf: public(HashMap[address, HashMap[address, uint256]])  # user -> token -> amount
filled: public(HashMap[bytes32, uint256])  # order hash -> base amount settled, while partially filled
retired: public(HashMap[address, HashMap[uint256, uint256]])  # maker -> nonce // 256 -> bitmap of fully filled
cancelled: public(HashMap[bytes32, bool])
minNonce: public(HashMap[address, uint256])
operators: public(HashMap[address, bool])
lastBatchId: public(uint256)
feeRecipient: public(address)
feeDiscountBps: public(uint256)  # discount for fees paid in the platform token
platformTokenRate: public(HashMap[address, uint256])  # platform-token units per asset unit, times PRICE_SCALE
payFeesInPlatformToken: public(HashMap[address, bool])
withdrawalDelay: public(uint256)  # blocks between an escape-hatch request and its withdrawal
pendingWithdrawal: public(HashMap[address, HashMap[address, uint256]])
withdrawalUnlockBlock: public(HashMap[address, HashMap[address, uint256]])

_CACHED_CHAIN_ID: immutable(uint256)
_CACHED_DOMAIN_SEPARATOR: immutable(bytes32)


@deploy
def __init__(platform_token: address, fee_discount_bps: uint256, withdrawal_delay: uint256):
    ownable.__init__()
    assert fee_discount_bps <= BPS, "settlement: discount above 100%"
    platformToken = platform_token
    self.feeDiscountBps = fee_discount_bps
    self.withdrawalDelay = withdrawal_delay
    self.feeRecipient = msg.sender
    self.operators[msg.sender] = True
    _CACHED_CHAIN_ID = chain.id
    _CACHED_DOMAIN_SEPARATOR = self._domain_separator()
    log OperatorSet(operator=msg.sender, enabled=True)


# -- deposits and withdrawals -----------------------------------------------------------------
@external
@nonreentrant
def deposit(token: address, amount: uint256):
    """
    @notice Move `amount` of an ERC-20 (approved to the vault) into the caller's balance.
    @param token The token (not the zero address; use depositNative).
    @param amount Amount.
    """
    assert token != empty(address), "settlement: use depositNative"
    assert amount > 0, "settlement: zero amount"
    before: uint256 = self._token_balance(token)
    self._call_token(token, abi_encode(msg.sender, self, amount, method_id=method_id("transferFrom(address,address,uint256)")))
    received: uint256 = self._token_balance(token) - before  # fee-on-transfer tokens credit what arrived
    self.balanceOf[msg.sender][token] += received
    log Deposit(user=msg.sender, token=token, amount=received)


@payable
@external
@nonreentrant
def depositNative():
    """
    @notice Move the attached native coin into the caller's balance (token = zero address).
    """
    assert msg.value > 0, "settlement: zero amount"
    self.balanceOf[msg.sender][empty(address)] += msg.value
    log Deposit(user=msg.sender, token=empty(address), amount=msg.value)


@external
@nonreentrant
def operatorWithdraw(user: address, token: address, amount: uint256):
    """
    @notice The fast path: an operator pays out a user's withdrawal (only ever to the user).
    @param user Whose balance, and who receives it.
    @param token Token (zero address: native coin).
    @param amount Amount.
    """
    assert self.operators[msg.sender], "settlement: caller is not an operator"
    self._debit(user, token, amount)
    self._pay(user, token, amount)
    log Withdraw(user=user, token=token, amount=amount)


@external
@nonreentrant
def requestWithdrawal(token: address, amount: uint256):
    """
    @notice The escape hatch, step 1: set aside `amount` (no longer usable by fills) to
            withdraw after `withdrawalDelay` blocks without any operator.
    @param token Token (zero address: native coin).
    @param amount Amount, added to any pending request (which restarts the delay).
    """
    assert amount > 0, "settlement: zero amount"
    self._debit(msg.sender, token, amount)
    self.pendingWithdrawal[msg.sender][token] += amount
    unlock: uint256 = block.number + self.withdrawalDelay
    self.withdrawalUnlockBlock[msg.sender][token] = unlock
    log WithdrawalRequested(user=msg.sender, token=token, amount=self.pendingWithdrawal[msg.sender][token],
                            unlockBlock=unlock)


@external
@nonreentrant
def withdraw(token: address):
    """
    @notice The escape hatch, step 2: withdraw a pending request once its delay has passed.
    @param token Token (zero address: native coin).
    """
    amount: uint256 = self.pendingWithdrawal[msg.sender][token]
    assert amount > 0, "settlement: no pending withdrawal"
    assert block.number >= self.withdrawalUnlockBlock[msg.sender][token], "settlement: withdrawal still locked"
    self.pendingWithdrawal[msg.sender][token] = 0
    self._pay(msg.sender, token, amount)
    log Withdraw(user=msg.sender, token=token, amount=amount)


# -- orders -------------------------------------------------------------------------------------
@external
def cancelOrder(order: Order):
    """
    @notice Cancel one of the caller's orders on chain; later fills of it are skipped.
    @param order The signed order.
    """
    assert order.maker == msg.sender, "settlement: not your order"
    order_hash: bytes32 = self._order_hash(order)
    self.cancelled[order_hash] = True
    log OrderCancelled(maker=msg.sender, orderHash=order_hash)


@external
def cancelAllBelow(min_nonce: uint256):
    """
    @notice Cancel every order of the caller with a nonce below `min_nonce`.
    @param min_nonce The new floor (must rise).
    """
    assert min_nonce > self.minNonce[msg.sender], "settlement: nonce floor must rise"
    self.minNonce[msg.sender] = min_nonce
    log NonceFloorRaised(maker=msg.sender, minNonce=min_nonce)


@external
def setPayFeesInPlatformToken(enabled: bool):
    """
    @notice Opt in (or out) to paying trading fees in the platform token at a discount.
    @param enabled True to pay in the platform token when the balance allows.
    """
    self.payFeesInPlatformToken[msg.sender] = enabled
    log FeesInPlatformToken(user=msg.sender, enabled=enabled)


@view
@external
def hashOrder(order: Order) -> bytes32:
    """
    @notice The EIP-712 digest a maker signs for `order`.
    @param order The order.
    @return The digest.
    """
    return self._order_hash(order)


@view
@external
def filledAmount(order: Order) -> uint256:
    """
    @notice How much of `order` (base units) has settled; a maker's nonce identifies one order.
    @param order The signed order.
    @return The settled base amount.
    """
    return self._filled(order, self._order_hash(order))


@view
@external
def DOMAIN_SEPARATOR() -> bytes32:
    """
    @notice The EIP-712 domain separator of this vault on this chain.
    @return The separator.
    """
    return self._domain_separator_v4()


# -- settlement --------------------------------------------------------------------------------
@external
@nonreentrant
def settle(batch_id: uint256, fills: DynArray[Fill, MAX_FILLS]):
    """
    @notice Settle a batch of matched fills (operators only; see the contract notes for skip vs revert).
    @param batch_id Must exceed every earlier batch id.
    @param fills The fills, in match order.
    """
    assert self.operators[msg.sender], "settlement: caller is not an operator"
    assert batch_id > self.lastBatchId, "settlement: stale batch id"
    self.lastBatchId = batch_id
    skipped: uint256 = 0
    for i: uint256 in range(MAX_FILLS):
        if i >= len(fills):
            break
        reason: uint8 = self._settle_fill(batch_id, fills[i])
        if reason != 0:
            skipped += 1
            log FillSkipped(batchId=batch_id, index=i, reason=reason)
    log BatchSettled(batchId=batch_id, fills=len(fills), skipped=skipped)


# -- administration ------------------------------------------------------------------------------
@external
def setOperator(operator: address, enabled: bool):
    """
    @notice Register or remove a settlement operator.
    @param operator The account.
    @param enabled Whether it may settle and pay out withdrawals.
    """
    ownable._check_owner()
    self.operators[operator] = enabled
    log OperatorSet(operator=operator, enabled=enabled)


@external
def setFeeRecipient(recipient: address):
    """
    @notice Where fees are credited (an internal balance).
    @param recipient The fee account.
    """
    ownable._check_owner()
    assert recipient != empty(address), "settlement: zero fee recipient"
    self.feeRecipient = recipient


@external
def setFeeDiscount(discount_bps: uint256):
    """
    @notice The discount on fees paid in the platform token.
    @param discount_bps Discount in basis points (at most 10000).
    """
    ownable._check_owner()
    assert discount_bps <= BPS, "settlement: discount above 100%"
    self.feeDiscountBps = discount_bps


@external
def setPlatformTokenRate(asset: address, rate: uint256):
    """
    @notice Platform-token units charged per unit of `asset` fee (times PRICE_SCALE); 0 disables.
    @param asset The asset fees are due in.
    @param rate The conversion rate.
    """
    ownable._check_owner()
    self.platformTokenRate[asset] = rate


@external
def setWithdrawalDelay(blocks: uint256):
    """
    @notice Blocks between an escape-hatch request and its withdrawal (for new requests).
    @param blocks The delay.
    """
    ownable._check_owner()
    self.withdrawalDelay = blocks


# -- internals ------------------------------------------------------------------------------------
@internal
def _settle_fill(batch_id: uint256, fill: Fill) -> uint8:
    maker: Order = fill.maker
    taker: Order = fill.taker
    assert maker.baseToken == taker.baseToken and maker.quoteToken == taker.quoteToken, "settlement: pair mismatch"
    assert maker.isBuy != taker.isBuy, "settlement: same side"
    if maker.isBuy:
        assert maker.price >= taker.price, "settlement: price outside limit"
    else:
        assert maker.price <= taker.price, "settlement: price outside limit"
    maker_hash: bytes32 = self._order_hash(maker)
    taker_hash: bytes32 = self._order_hash(taker)
    self._check_signature(maker_hash, maker.maker, fill.makerV, fill.makerR, fill.makerS)
    self._check_signature(taker_hash, taker.maker, fill.takerV, fill.takerR, fill.takerS)
    base: uint256 = fill.baseAmount
    assert base > 0, "settlement: zero fill"
    maker_filled: uint256 = self._filled(maker, maker_hash)
    taker_filled: uint256 = self._filled(taker, taker_hash)
    assert maker_filled + base <= maker.baseAmount, "settlement: overfill"
    assert taker_filled + base <= taker.baseAmount, "settlement: overfill"
    quote: uint256 = base * maker.price // PRICE_SCALE
    assert quote > 0, "settlement: zero quote amount"
    # the fee is charged in what each side receives: base for the buyer, quote for the seller
    maker_gets: uint256 = quote
    taker_gets: uint256 = base
    if maker.isBuy:
        maker_gets = base
        taker_gets = quote
    assert fill.makerFee * BPS <= maker_gets * maker.maxFeeBps, "settlement: maker fee above signed maximum"
    assert fill.takerFee * BPS <= taker_gets * taker.maxFeeBps, "settlement: taker fee above signed maximum"

    if self.cancelled[maker_hash] or self.cancelled[taker_hash] or maker.nonce < self.minNonce[maker.maker] \
            or taker.nonce < self.minNonce[taker.maker]:
        return SKIP_CANCELLED
    if block.timestamp > maker.expiry or block.timestamp > taker.expiry:
        return SKIP_EXPIRED
    buyer: Order = taker
    seller: Order = maker
    if maker.isBuy:
        buyer = maker
        seller = taker
    if self.balanceOf[seller.maker][maker.baseToken] < base:
        return SKIP_SELLER_BALANCE
    if self.balanceOf[buyer.maker][maker.quoteToken] < quote:
        return SKIP_BUYER_BALANCE

    self._record_fill(maker, maker_hash, maker_filled + base)
    self._record_fill(taker, taker_hash, taker_filled + base)
    self.balanceOf[seller.maker][maker.baseToken] -= base
    self.balanceOf[buyer.maker][maker.quoteToken] -= quote
    buyer_fee: uint256 = fill.takerFee
    seller_fee: uint256 = fill.makerFee
    if maker.isBuy:
        buyer_fee = fill.makerFee
        seller_fee = fill.takerFee
    self._credit_after_fee(buyer.maker, maker.baseToken, base, buyer_fee)
    self._credit_after_fee(seller.maker, maker.quoteToken, quote, seller_fee)
    log Filled(batchId=batch_id, makerHash=maker_hash, takerHash=taker_hash, baseAmount=base, quoteAmount=quote,
               makerFee=fill.makerFee, takerFee=fill.takerFee)
    return 0


@view
@internal
def _filled(order: Order, order_hash: bytes32) -> uint256:
    if self.retired[order.maker][order.nonce >> 8] & (1 << (order.nonce & 255)) != 0:
        return order.baseAmount
    return self.filled[order_hash]


@internal
def _record_fill(order: Order, order_hash: bytes32, total: uint256):
    """A fully filled order retires its nonce in a shared bitmap (one slot per 256 nonces) instead of
    keeping an amount, so a maker's consecutive orders cost one storage slot, not one each."""
    if total == order.baseAmount:
        word: uint256 = order.nonce >> 8
        self.retired[order.maker][word] = self.retired[order.maker][word] | (1 << (order.nonce & 255))
        if self.filled[order_hash] != 0:
            self.filled[order_hash] = 0
    else:
        self.filled[order_hash] = total


@internal
def _credit_after_fee(user: address, asset: address, amount: uint256, fee: uint256):
    """Credit `amount` less `fee`, or all of it when the fee is paid in the platform token instead."""
    fee_account: address = self.feeRecipient
    if fee > 0 and self.payFeesInPlatformToken[user] and asset != platformToken:
        rate: uint256 = self.platformTokenRate[asset]
        if rate > 0:
            platform_fee: uint256 = fee * rate // PRICE_SCALE * (BPS - self.feeDiscountBps) // BPS
            if self.balanceOf[user][platformToken] >= platform_fee:
                self.balanceOf[user][platformToken] -= platform_fee
                self.balanceOf[fee_account][platformToken] += platform_fee
                self.balanceOf[user][asset] += amount
                return
    self.balanceOf[user][asset] += amount - fee
    if fee > 0:
        self.balanceOf[fee_account][asset] += fee


@view
@internal
def _check_signature(digest: bytes32, signer: address, v: uint8, r: bytes32, s: bytes32):
    assert convert(s, uint256) <= MAX_S, "settlement: invalid signature"
    recovered: address = ecrecover(digest, v, r, s)
    assert recovered != empty(address) and recovered == signer, "settlement: invalid signature"


@view
@internal
def _order_hash(order: Order) -> bytes32:
    struct_hash: bytes32 = keccak256(abi_encode(
        ORDER_TYPEHASH, order.maker, order.baseToken, order.quoteToken, order.isBuy, order.baseAmount, order.price,
        order.expiry, order.nonce, order.maxFeeBps))
    return keccak256(concat(b"\x19\x01", self._domain_separator_v4(), struct_hash))


@view
@internal
def _domain_separator_v4() -> bytes32:
    if chain.id == _CACHED_CHAIN_ID:
        return _CACHED_DOMAIN_SEPARATOR
    return self._domain_separator()


@view
@internal
def _domain_separator() -> bytes32:
    return keccak256(abi_encode(EIP712_TYPEHASH, keccak256(NAME), keccak256(VERSION), chain.id, self))


@internal
def _debit(user: address, token: address, amount: uint256):
    balance: uint256 = self.balanceOf[user][token]
    assert balance >= amount, "settlement: insufficient balance"
    self.balanceOf[user][token] = balance - amount


@internal
def _pay(to: address, token: address, amount: uint256):
    if token == empty(address):
        send(to, amount)
    else:
        self._call_token(token, abi_encode(to, amount, method_id=method_id("transfer(address,uint256)")))


@internal
def _call_token(token: address, payload: Bytes[100]):
    response: Bytes[32] = raw_call(token, payload, max_outsize=32)
    if len(response) > 0:
        assert convert(response, bool), "settlement: token transfer failed"


@view
@internal
def _token_balance(token: address) -> uint256:
    response: Bytes[32] = raw_call(
        token, abi_encode(self, method_id=method_id("balanceOf(address)")), max_outsize=32, is_static_call=True)
    return convert(response, uint256)
