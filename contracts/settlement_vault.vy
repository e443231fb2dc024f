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
     Batch ids must strictly increase, so a resubmitted batch cannot pay twice, and
     rise by at most MAX_BATCH_ID_STEP per batch, so no batch can use them up.

     Agents (API keys without custody): a maker may approve an agent key, with an
     expiry, by transaction or by an EIP-712 AgentApproval the operator submits.
     An order signed by a live agent of its maker settles as if the maker signed
     it; an agent can do nothing else (no withdrawal, no approval of others, no
     cancel on chain). The maker revokes at once with revokeAgent; fills of an
     expired or revoked agent's orders are SKIPPED (reason SKIP_AGENT).

     Fees: each side pays in the asset it receives, at most `maxFeeBps` of it, or
     - when the fill says so (the exchange chose it for a user who opted in) - in
     the platform token, at most `maxPlatformFeeRate` platform-token units per
     unit received (x PRICE_SCALE). Both bounds are signed by the user; the rate
     and discount the owner publishes here (with events) are what the exchange
     charges within them.
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
    maxPlatformFeeRate: uint256  # platform-token units per unit received, x PRICE_SCALE; 0: never pays in it

struct SignedOrder:
    # An Order as settle() takes it, in six words. `head`: its maker's index in the batch's accounts (bits 0-15) |
    # isBuy (bit 16) | its signature's v (bits 24-31) | base token index (bits 32-39) | quote token index (bits
    # 40-47) into the batch's tokens | maxFeeBps (bits 48-63) | expiry (bits 64-111) | the index of its nonce's
    # word in the batch's nonce words (bits 112-127); the other bits must be zero.
    # `amounts`: baseAmount (bits 0-127) | maxPlatformFeeRate (bits 128-255). An order whose fields do not fit (its
    # nonce must be below 2**240) cannot be settled (the exchange refuses it when it is placed).
    head: uint256
    amounts: uint256
    price: uint256
    nonce: uint256
    r: bytes32
    s: bytes32

struct Fill:
    # `head`: maker order index (bits 0-15) | taker order index (bits 16-31) into the batch's orders | the maker's
    # fee is in the platform token (bit 32) | the taker's (bit 33) | indexes into the batch's balances (10 bits
    # each) of the seller's base (bits 40-49) and quote (50-59), the buyer's base (60-69) and quote (70-79), and the
    # seller's (80-89) and buyer's (90-99) platform token, the last two read only for a fee paid in it | the base
    # amount (bits 128-255); the other bits must be zero
    head: uint256
    makerFee: uint256  # in the asset the maker receives, or in the platform token when its bit says so
    takerFee: uint256  # in the asset the taker receives, or in the platform token when its bit says so

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

event Filled:  # BatchSettled, in the same transaction, names the batch
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

event FeeRecipientSet:
    recipient: indexed(address)

event FeeDiscountSet:
    discountBps: uint256

event PlatformTokenRateSet:
    asset: indexed(address)
    rate: uint256

event WithdrawalDelaySet:
    blocks: uint256

event FeesBurned:
    recipient: indexed(address)
    amount: uint256

event AgentApproved:
    maker: indexed(address)
    agent: indexed(address)
    expiry: uint256

event AgentRevoked:
    maker: indexed(address)
    agent: indexed(address)


PRICE_SCALE: public(constant(uint256)) = 10 ** 18
# Bounds of one batch. Vyper reserves memory for the largest batch, and memory costs gas in proportion to the square
# of its size: these bounds are what a batch costs whatever its size. 100 (the exchange's default batch) rather than
# 128 costs a batch of 100 260 gas less per fill, and a batch of one 26,000 less.
MAX_FILLS: public(constant(uint256)) = 100
# The layout of settle()'s arguments: an operator's client checks it before it sends a batch. 2: tokens, accounts,
# balances, nonce words, orders in six words, fills in three (1, which had no such view: tokens, orders in nine
# words, fills in four).
BATCH_FORMAT: public(constant(uint256)) = 2
MAX_ORDERS: constant(uint256) = 2 * MAX_FILLS  # each fill's two orders
MAX_TOKENS: constant(uint256) = 2 * MAX_FILLS + 1  # each fill's two, and the platform token; an index is 8 bits
MAX_ACCOUNTS: constant(uint256) = MAX_ORDERS  # each order's maker
MAX_BALANCES: constant(uint256) = 6 * MAX_FILLS  # each fill's (account, token) balances; an index is 10 bits
AMOUNT_MASK: constant(uint256) = 2 ** 128 - 1
EXPIRY_MASK: constant(uint256) = 2 ** 48 - 1
HEAD_UNUSED_BITS: constant(uint256) = (2 ** 24 - 2 ** 17) + (max_value(uint256) - (2 ** 128 - 1))  # of a head
FILL_UNUSED_BITS: constant(uint256) = (2 ** 40 - 2 ** 34) + (2 ** 128 - 2 ** 100)  # bits 34-39 and 100-127 of a fill's
MAX_BATCH_ID_STEP: public(constant(uint256)) = 2 ** 64
MAX_WITHDRAWAL_DELAY: public(constant(uint256)) = 201_600  # blocks: 7 days of 3-second blocks
BPS: constant(uint256) = 10_000
MAX_S: constant(uint256) = 57_896_044_618_658_097_711_785_492_504_343_953_926_418_782_139_537_452_191_302_581_570_759_080_747_168
EIP712_TYPEHASH: constant(bytes32) = keccak256(
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
ORDER_TYPEHASH: public(constant(bytes32)) = keccak256(
    "Order(address maker,address baseToken,address quoteToken,bool isBuy,uint256 baseAmount,uint256 price,"
    "uint256 expiry,uint256 nonce,uint256 maxFeeBps,uint256 maxPlatformFeeRate)"
)
AGENT_TYPEHASH: public(constant(bytes32)) = keccak256(
    "AgentApproval(address maker,address agent,uint256 expiry,uint256 nonce)"
)
NAME: constant(String[32]) = "Bourse Settlement"
VERSION: constant(String[8]) = "1"

# skip reasons (FillSkipped.reason)
SKIP_CANCELLED: public(constant(uint8)) = 1
SKIP_EXPIRED: public(constant(uint8)) = 2
SKIP_SELLER_BALANCE: public(constant(uint8)) = 3
SKIP_BUYER_BALANCE: public(constant(uint8)) = 4
SKIP_AGENT: public(constant(uint8)) = 5  # signed by an agent whose approval expired or was revoked
REVOKED: constant(uint256) = 1  # agentExpiry of a revoked agent: in the past, yet not "never approved"
NONCE_FILLED: constant(uint256) = 1  # fully filled (its amount slot freed)
NONCE_CANCELLED: constant(uint256) = 2  # cancelled on chain by its maker
NONCE_PARTIAL: constant(uint256) = 4  # partially filled: `filled[hash]` holds the amount

platformToken: public(immutable(address))
balanceOf: public(HashMap[address, HashMap[address, uint256]])  # user -> token -> amount
filled: public(HashMap[bytes32, uint256])  # order hash -> base amount settled, while partially filled
# maker -> nonce // 64 -> 4 bits per nonce (NONCE_FILLED, NONCE_CANCELLED, NONCE_PARTIAL): what settlement needs
# to know of an order in one storage slot shared by 64 of its maker's orders (warm after the first in a batch)
nonceState: public(HashMap[address, HashMap[uint256, uint256]])
cancelled: public(HashMap[bytes32, bool])
minNonce: public(HashMap[address, uint256])
operators: public(HashMap[address, bool])
lastBatchId: public(uint256)
feeRecipient: public(address)
feeDiscountBps: public(uint256)  # discount for fees paid in the platform token
platformTokenRate: public(HashMap[address, uint256])  # published: platform-token units per asset unit, x PRICE_SCALE
payFeesInPlatformToken: public(HashMap[address, bool])
withdrawalDelay: public(uint256)  # blocks between an escape-hatch request and its withdrawal
pendingWithdrawal: public(HashMap[address, HashMap[address, uint256]])
withdrawalUnlockBlock: public(HashMap[address, HashMap[address, uint256]])
agentExpiry: public(HashMap[address, HashMap[address, uint256]])  # maker -> agent -> unix seconds (0: never)
agentNonce: public(HashMap[address, uint256])  # the next nonce of the maker's signed AgentApproval

_CACHED_CHAIN_ID: immutable(uint256)
_CACHED_DOMAIN_SEPARATOR: immutable(bytes32)


@deploy
def __init__(platform_token: address, fee_discount_bps: uint256, withdrawal_delay: uint256):
    ownable.__init__()
    assert fee_discount_bps <= BPS, "settlement: discount above 100%"
    assert withdrawal_delay <= MAX_WITHDRAWAL_DELAY, "settlement: withdrawal delay above the cap"
    platformToken = platform_token
    self.feeDiscountBps = fee_discount_bps
    self.withdrawalDelay = withdrawal_delay
    self.feeRecipient = msg.sender
    self.operators[msg.sender] = True
    _CACHED_CHAIN_ID = chain.id
    _CACHED_DOMAIN_SEPARATOR = self._domain_separator()
    log OperatorSet(operator=msg.sender, enabled=True)
    log FeeRecipientSet(recipient=msg.sender)
    log FeeDiscountSet(discountBps=fee_discount_bps)
    log WithdrawalDelaySet(blocks=withdrawal_delay)


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
def burnFees(amount: uint256):
    """
    @notice Burn platform-token fees the fee recipient holds in the vault, through the token's own `burn`
            (the total supply falls by `amount`): an operator's call, bounded by what the fee recipient holds.
    @param amount Amount of the platform token to burn.
    """
    assert self.operators[msg.sender], "settlement: caller is not an operator"
    assert amount > 0, "settlement: zero amount"
    recipient: address = self.feeRecipient
    self._debit(recipient, platformToken, amount)
    self._call_token(platformToken, abi_encode(amount, method_id=method_id("burn(uint256)")))
    log FeesBurned(recipient=recipient, amount=amount)


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
    self._set_nonce_bits(order.maker, order.nonce, NONCE_CANCELLED, 0)
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
def approveAgent(agent: address, expiry: uint256):
    """
    @notice Let `agent` sign orders for the caller until `expiry` (unix seconds); nothing else.
    @param agent The agent key's address.
    @param expiry When the approval ends (in the future).
    """
    self._approve_agent(msg.sender, agent, expiry)


@external
def approveAgentBySig(maker: address, agent: address, expiry: uint256, nonce: uint256, v: uint8, r: bytes32,
                      s: bytes32):
    """
    @notice Submit a maker's EIP-712 AgentApproval (anyone may; the operator does for API keys).
    @param maker The approving maker (the signer).
    @param agent The agent key's address.
    @param expiry When the approval ends.
    @param nonce Must equal agentNonce(maker): each signed approval is used once.
    """
    assert nonce == self.agentNonce[maker], "settlement: stale agent approval nonce"
    digest: bytes32 = keccak256(concat(b"\x19\x01", self._domain_separator_v4(),
                                       keccak256(abi_encode(AGENT_TYPEHASH, maker, agent, expiry, nonce))))
    self._check_signature(digest, maker, v, r, s)
    self.agentNonce[maker] = nonce + 1
    self._approve_agent(maker, agent, expiry)


@external
def revokeAgent(agent: address):
    """
    @notice End an agent's approval now; fills of its orders are skipped from this block on.
    @param agent The agent key's address.
    """
    assert self.agentExpiry[msg.sender][agent] != 0, "settlement: not an agent of the caller"
    self.agentExpiry[msg.sender][agent] = REVOKED
    log AgentRevoked(maker=msg.sender, agent=agent)


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
    return self._filled_of(order.baseAmount, self._order_hash(order), self._nonce_bits(order.maker, order.nonce))


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
def settle(batch_id: uint256, tokens: DynArray[address, MAX_TOKENS], accounts: DynArray[address, MAX_ACCOUNTS],
           balances: DynArray[uint256, MAX_BALANCES], nonce_words: DynArray[uint256, MAX_ORDERS],
           orders: DynArray[SignedOrder, MAX_ORDERS], fills: DynArray[Fill, MAX_FILLS]):
    """
    @notice Settle a batch of matched fills (operators only; see the contract notes for skip vs revert).
    @dev Each order is listed, hashed and its signature checked once per batch, however many fills it has. Each
         balance the batch moves, and each word of nonce states its orders mark, is read once, changed in memory
         fill by fill, and written once.
    @param batch_id Must exceed the last batch id, by at most MAX_BATCH_ID_STEP.
    @param tokens The tokens the orders trade, in strictly increasing order: heads and balances index this list.
    @param accounts The orders' makers, in strictly increasing order: heads and balances index this list.
    @param balances The (account, token) balances the fills move, in strictly increasing order, each as
           account index (bits 0-15) | token index (bits 16-23): the fills index this list.
    @param nonce_words The words of `nonceState` the orders' nonces are in, in strictly increasing order, each as
           account index (bits 0-15) | nonce // 64 (bits 16-255): the orders index this list.
    @param orders The signed orders the fills name.
    @param fills The fills, in match order.
    """
    assert self.operators[msg.sender], "settlement: caller is not an operator"
    last: uint256 = self.lastBatchId
    assert batch_id > last, "settlement: stale batch id"
    assert batch_id - last <= MAX_BATCH_ID_STEP, "settlement: batch id jumps too far"
    self.lastBatchId = batch_id
    for i: uint256 in range(1, MAX_TOKENS):
        if i >= len(tokens):
            break
        assert convert(tokens[i], uint160) > convert(tokens[i - 1], uint160), "settlement: malformed token list"
    floors: uint256[MAX_ACCOUNTS] = empty(uint256[MAX_ACCOUNTS])  # each account's minNonce, read once
    for i: uint256 in range(MAX_ACCOUNTS):
        if i >= len(accounts):
            break
        assert i == 0 or convert(accounts[i], uint160) > convert(accounts[i - 1], uint160), \
            "settlement: malformed account list"
        floors[i] = self.minNonce[accounts[i]]
    # one entry per (account, token): keys strictly increasing, so no balance is held twice in memory
    amounts: uint256[MAX_BALANCES] = empty(uint256[MAX_BALANCES])
    for i: uint256 in range(MAX_BALANCES):
        if i >= len(balances):
            break
        key: uint256 = balances[i]
        assert key & 65535 < len(accounts) and key >> 16 < len(tokens) and (i == 0 or key > balances[i - 1]), \
            "settlement: malformed balance list"
        amounts[i] = self.balanceOf[accounts[key & 65535]][tokens[key >> 16]]
    words: uint256[MAX_ORDERS] = empty(uint256[MAX_ORDERS])  # nonce states, 4 bits per nonce, as in nonceState
    for i: uint256 in range(MAX_ORDERS):
        if i >= len(nonce_words):
            break
        key: uint256 = nonce_words[i]
        assert key & 65535 < len(accounts) and (i == 0 or key > nonce_words[i - 1]), "settlement: malformed nonce list"
        words[i] = self.nonceState[accounts[key & 65535]][key >> 16]
    hashes: bytes32[MAX_ORDERS] = empty(bytes32[MAX_ORDERS])
    domain: bytes32 = self._domain_separator_v4()
    # one bit per order whose signer is an agent no longer live (rare: a batch with none checks none)
    lapsed: uint256[(MAX_ORDERS + 255) // 256] = empty(uint256[(MAX_ORDERS + 255) // 256])
    any_lapsed: bool = False
    for i: uint256 in range(MAX_ORDERS):
        if i >= len(orders):
            break
        order: SignedOrder = orders[i]
        assert order.head & HEAD_UNUSED_BITS == 0 and order.head & 65535 < len(accounts) and \
            (order.head >> 32) & 255 < len(tokens) and (order.head >> 40) & 255 < len(tokens) and \
            order.nonce >> 240 == 0 and (order.head >> 112) < len(nonce_words) and \
            nonce_words[order.head >> 112] == (order.nonce >> 6) << 16 | order.head & 65535, \
            "settlement: malformed order"
        maker: address = accounts[order.head & 65535]
        order_hash: bytes32 = keccak256(concat(b"\x19\x01", domain, keccak256(abi_encode(
            ORDER_TYPEHASH, maker, tokens[(order.head >> 32) & 255], tokens[(order.head >> 40) & 255],
            (order.head >> 16) & 1 == 1, order.amounts & AMOUNT_MASK, order.price, (order.head >> 64) & EXPIRY_MASK,
            order.nonce, (order.head >> 48) & 65535, order.amounts >> 128))))
        if not self._check_order_signature(order_hash, maker, convert((order.head >> 24) & 255, uint8), order.r,
                                           order.s):
            lapsed[i >> 8] |= 1 << (i & 255)
            any_lapsed = True
        hashes[i] = order_hash
    # fees owed to the fee recipient, per token index and in the platform token: credited once, after the fills
    fees: uint256[MAX_TOKENS] = empty(uint256[MAX_TOKENS])
    platform_fees: uint256 = 0
    skipped: uint256 = 0
    for i: uint256 in range(MAX_FILLS):
        if i >= len(fills):
            break
        fill: Fill = fills[i]
        maker_index: uint256 = fill.head & 65535
        taker_index: uint256 = (fill.head >> 16) & 65535
        assert fill.head & FILL_UNUSED_BITS == 0 and maker_index < len(orders) and taker_index < len(orders), \
            "settlement: malformed fill"
        maker: SignedOrder = orders[maker_index]
        taker: SignedOrder = orders[taker_index]
        pair: uint256 = (maker.head >> 32) & 65535
        assert pair == (taker.head >> 32) & 65535, "settlement: pair mismatch"
        maker_buys: bool = (maker.head >> 16) & 1 == 1
        assert maker_buys != ((taker.head >> 16) & 1 == 1), "settlement: same side"
        if maker_buys:
            assert maker.price >= taker.price, "settlement: price outside limit"
        else:
            assert maker.price <= taker.price, "settlement: price outside limit"
        base: uint256 = fill.head >> 128
        assert base > 0, "settlement: zero fill"
        maker_bits: uint256 = (words[maker.head >> 112] >> ((maker.nonce & 63) << 2)) & 15
        taker_bits: uint256 = (words[taker.head >> 112] >> ((taker.nonce & 63) << 2)) & 15
        maker_filled: uint256 = self._filled_of(maker.amounts & AMOUNT_MASK, hashes[maker_index], maker_bits)
        taker_filled: uint256 = self._filled_of(taker.amounts & AMOUNT_MASK, hashes[taker_index], taker_bits)
        assert maker_filled + base <= maker.amounts & AMOUNT_MASK, "settlement: overfill"
        assert taker_filled + base <= taker.amounts & AMOUNT_MASK, "settlement: overfill"
        quote: uint256 = self._quote(base, maker.price, maker_buys, taker.price)
        # the fee is charged in what each side receives: base for the buyer, quote for the seller
        maker_in_platform: bool = (fill.head >> 32) & 1 == 1
        taker_in_platform: bool = (fill.head >> 33) & 1 == 1
        base_index: uint256 = pair & 255
        quote_index: uint256 = pair >> 8
        maker_gets: uint256 = quote
        maker_receives: uint256 = quote_index
        taker_gets: uint256 = base
        taker_receives: uint256 = base_index
        if maker_buys:
            maker_gets = base
            maker_receives = base_index
            taker_gets = quote
            taker_receives = quote_index
        # each fee within what its order signed: maxFeeBps of what it receives, or - paid in the platform token,
        # which it must not be receiving - maxPlatformFeeRate per unit of it
        if maker_in_platform:
            assert tokens[maker_receives] != platformToken and \
                fill.makerFee * PRICE_SCALE <= maker_gets * (maker.amounts >> 128), \
                "settlement: maker fee above signed maximum"
        else:
            assert fill.makerFee * BPS <= maker_gets * ((maker.head >> 48) & 65535), \
                "settlement: maker fee above signed maximum"
        if taker_in_platform:
            assert tokens[taker_receives] != platformToken and \
                fill.takerFee * PRICE_SCALE <= taker_gets * (taker.amounts >> 128), \
                "settlement: taker fee above signed maximum"
        else:
            assert fill.takerFee * BPS <= taker_gets * ((taker.head >> 48) & 65535), \
                "settlement: taker fee above signed maximum"
        buyer: uint256 = taker.head & 65535  # account indexes
        seller: uint256 = maker.head & 65535
        buyer_fee: uint256 = fill.takerFee
        seller_fee: uint256 = fill.makerFee
        buyer_pays_platform: bool = taker_in_platform and fill.takerFee != 0
        seller_pays_platform: bool = maker_in_platform and fill.makerFee != 0
        if maker_buys:
            buyer = maker.head & 65535
            seller = taker.head & 65535
            buyer_fee = fill.makerFee
            seller_fee = fill.takerFee
            buyer_pays_platform = maker_in_platform and fill.makerFee != 0
            seller_pays_platform = taker_in_platform and fill.takerFee != 0
        # the balances the fill moves, by their indexes in `balances`, each checked to be the one it must be: one
        # entry per (account, token), so a seller whose fee is in the platform token it sells has one entry for both
        seller_base: uint256 = (fill.head >> 40) & 1023
        seller_quote: uint256 = (fill.head >> 50) & 1023
        buyer_base: uint256 = (fill.head >> 60) & 1023
        buyer_quote: uint256 = (fill.head >> 70) & 1023
        assert seller_base < len(balances) and balances[seller_base] == seller | base_index << 16 and \
            seller_quote < len(balances) and balances[seller_quote] == seller | quote_index << 16 and \
            buyer_base < len(balances) and balances[buyer_base] == buyer | base_index << 16 and \
            buyer_quote < len(balances) and balances[buyer_quote] == buyer | quote_index << 16, \
            "settlement: wrong balance index"
        seller_platform: uint256 = (fill.head >> 80) & 1023
        buyer_platform: uint256 = (fill.head >> 90) & 1023
        if seller_pays_platform:
            assert seller_platform < len(balances) and balances[seller_platform] & 65535 == seller and \
                tokens[balances[seller_platform] >> 16] == platformToken, "settlement: wrong balance index"
        if buyer_pays_platform:
            assert buyer_platform < len(balances) and balances[buyer_platform] & 65535 == buyer and \
                tokens[balances[buyer_platform] >> 16] == platformToken, "settlement: wrong balance index"
        reason: uint8 = 0
        if (maker_bits | taker_bits) & NONCE_CANCELLED != 0 or \
                maker.nonce < floors[maker.head & 65535] or taker.nonce < floors[taker.head & 65535]:
            reason = SKIP_CANCELLED
        elif block.timestamp > (maker.head >> 64) & EXPIRY_MASK or \
                block.timestamp > (taker.head >> 64) & EXPIRY_MASK:
            reason = SKIP_EXPIRED
        elif any_lapsed and ((lapsed[maker_index >> 8] >> (maker_index & 255)) |
                             (lapsed[taker_index >> 8] >> (taker_index & 255))) & 1 == 1:
            reason = SKIP_AGENT
        seller_platform_fee: uint256 = 0
        buyer_platform_fee: uint256 = 0
        if seller_pays_platform:
            seller_platform_fee = seller_fee
        else:
            seller_platform = seller_base  # a debit of 0
        if buyer_pays_platform:
            buyer_platform_fee = buyer_fee
        else:
            buyer_platform = buyer_quote
        if reason == 0:
            # debit what each side pays in turn, so a balance paid from twice (a fee in the token it also pays, an
            # account on both sides) must cover both; undo them if one cannot be paid
            debited: uint256 = 0
            if amounts[seller_base] >= base:
                amounts[seller_base] = unsafe_sub(amounts[seller_base], base)
                debited = 1
                if amounts[seller_platform] >= seller_platform_fee:
                    if seller_platform_fee != 0:
                        amounts[seller_platform] = unsafe_sub(amounts[seller_platform], seller_platform_fee)
                    debited = 2
                    if amounts[buyer_quote] >= quote:
                        amounts[buyer_quote] = unsafe_sub(amounts[buyer_quote], quote)
                        debited = 3
                        if amounts[buyer_platform] >= buyer_platform_fee:
                            if buyer_platform_fee != 0:
                                amounts[buyer_platform] = unsafe_sub(amounts[buyer_platform], buyer_platform_fee)
                            debited = 4
            if debited < 4:
                reason = SKIP_BUYER_BALANCE
                if debited < 2:
                    reason = SKIP_SELLER_BALANCE
                if debited >= 3:
                    amounts[buyer_quote] += quote
                if debited >= 2:
                    amounts[seller_platform] += seller_platform_fee
                if debited >= 1:
                    amounts[seller_base] += base
        if reason != 0:
            skipped += 1
            log FillSkipped(batchId=batch_id, index=i, reason=reason)
            continue

        # a fully filled order is marked in its maker's nonce word; a partial one keeps its amount in `filled`
        words[maker.head >> 112] = self._marked_filled(words[maker.head >> 112], maker.nonce,
                                                       maker_filled + base == maker.amounts & AMOUNT_MASK)
        if maker_filled + base != maker.amounts & AMOUNT_MASK or maker_bits & NONCE_PARTIAL != 0:
            self._record_filled_amount(hashes[maker_index], maker_bits, maker_filled + base,
                                       maker.amounts & AMOUNT_MASK)
        words[taker.head >> 112] = self._marked_filled(words[taker.head >> 112], taker.nonce,
                                                       taker_filled + base == taker.amounts & AMOUNT_MASK)
        if taker_filled + base != taker.amounts & AMOUNT_MASK or taker_bits & NONCE_PARTIAL != 0:
            self._record_filled_amount(hashes[taker_index], taker_bits, taker_filled + base,
                                       taker.amounts & AMOUNT_MASK)
        # paid (above); now received: a fee in the platform token was debited with the rest, the fee recipient is
        # credited after the batch
        if buyer_pays_platform:
            amounts[buyer_base] += base
            platform_fees += buyer_fee
        else:
            amounts[buyer_base] += base - buyer_fee  # a fee of 0 flagged as in the platform token is 0 here
            fees[base_index] += buyer_fee
        if seller_pays_platform:
            amounts[seller_quote] += quote
            platform_fees += seller_fee
        else:
            amounts[seller_quote] += quote - seller_fee
            fees[quote_index] += seller_fee
        log Filled(makerHash=hashes[maker_index], takerHash=hashes[taker_index], baseAmount=base, quoteAmount=quote,
                   makerFee=fill.makerFee, takerFee=fill.takerFee)
    for i: uint256 in range(MAX_BALANCES):
        if i >= len(balances):
            break
        key: uint256 = balances[i]
        self.balanceOf[accounts[key & 65535]][tokens[key >> 16]] = amounts[i]
    for i: uint256 in range(MAX_ORDERS):
        if i >= len(nonce_words):
            break
        self.nonceState[accounts[nonce_words[i] & 65535]][nonce_words[i] >> 16] = words[i]
    fee_account: address = self.feeRecipient
    for i: uint256 in range(MAX_TOKENS):
        if i >= len(tokens):
            break
        if fees[i] != 0:
            self.balanceOf[fee_account][tokens[i]] += fees[i]
    if platform_fees != 0:
        self.balanceOf[fee_account][platformToken] += platform_fees
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
    log FeeRecipientSet(recipient=recipient)


@external
def setFeeDiscount(discount_bps: uint256):
    """
    @notice Publish the discount on fees paid in the platform token (what the exchange charges, within each
            order's signed maxPlatformFeeRate).
    @param discount_bps Discount in basis points (at most 10000).
    """
    ownable._check_owner()
    assert discount_bps <= BPS, "settlement: discount above 100%"
    self.feeDiscountBps = discount_bps
    log FeeDiscountSet(discountBps=discount_bps)


@external
def setPlatformTokenRate(asset: address, rate: uint256):
    """
    @notice Publish the platform-token units charged per unit of `asset` fee (times PRICE_SCALE); 0 disables.
            A user never pays more than the maxPlatformFeeRate their order signed.
    @param asset The asset fees are due in.
    @param rate The conversion rate.
    """
    ownable._check_owner()
    self.platformTokenRate[asset] = rate
    log PlatformTokenRateSet(asset=asset, rate=rate)


@external
def setWithdrawalDelay(blocks: uint256):
    """
    @notice Blocks between an escape-hatch request and its withdrawal. Applies to requests made after the
            change; a pending request keeps the unlock block it was given.
    @param blocks The delay, at most MAX_WITHDRAWAL_DELAY.
    """
    ownable._check_owner()
    assert blocks <= MAX_WITHDRAWAL_DELAY, "settlement: withdrawal delay above the cap"
    self.withdrawalDelay = blocks
    log WithdrawalDelaySet(blocks=blocks)


# -- internals ------------------------------------------------------------------------------------
@pure
@internal
def _quote(base: uint256, maker_price: uint256, maker_buys: bool, taker_price: uint256) -> uint256:
    """The fill's quote amount at the maker's price, rounded in the maker's favour (up when the maker sells), and
    within the taker's limit: so no way of splitting an order into fills pays a seller below, or charges a buyer
    above, its limit. A fill too small for both to hold at once reverts."""
    product: uint256 = base * maker_price
    quote: uint256 = product // PRICE_SCALE
    if not maker_buys and product % PRICE_SCALE != 0:
        quote += 1
    assert quote > 0, "settlement: zero quote amount"
    if maker_buys:
        assert quote * PRICE_SCALE >= base * taker_price, "settlement: fill too small for its prices"
    else:
        assert quote * PRICE_SCALE <= base * taker_price, "settlement: fill too small for its prices"
    return quote


@view
@internal
def _nonce_bits(maker: address, nonce: uint256) -> uint256:
    return (self.nonceState[maker][nonce >> 6] >> ((nonce & 63) << 2)) & 15


@internal
def _set_nonce_bits(maker: address, nonce: uint256, set_bits: uint256, clear_bits: uint256):
    word: uint256 = nonce >> 6
    offset: uint256 = (nonce & 63) << 2
    self.nonceState[maker][word] = (self.nonceState[maker][word] & ~(clear_bits << offset)) | (set_bits << offset)


@view
@internal
def _filled_of(amount: uint256, order_hash: bytes32, bits: uint256) -> uint256:
    """The order's settled base amount: all of it once filled, `filled[hash]` only while partially filled (so a
    fresh order costs no storage read of its own)."""
    if bits & NONCE_FILLED != 0:
        return amount
    if bits & NONCE_PARTIAL != 0:
        return self.filled[order_hash]
    return 0


@pure
@internal
def _marked_filled(word: uint256, nonce: uint256, full: bool) -> uint256:
    """`word` (a nonceState word) with the nonce marked filled when `full`, else partially filled."""
    offset: uint256 = (nonce & 63) << 2
    if full:
        return (word & ~(NONCE_PARTIAL << offset)) | (NONCE_FILLED << offset)
    return word | (NONCE_PARTIAL << offset)


@internal
def _record_filled_amount(order_hash: bytes32, bits: uint256, total: uint256, amount: uint256):
    """A partially filled order keeps its settled amount; a fully filled one frees it (its nonce says filled). (Not
    called for an order filled whole at once: it has no amount to keep or free.)"""
    if total != amount:
        self.filled[order_hash] = total
    elif bits & NONCE_PARTIAL != 0:
        self.filled[order_hash] = 0


@internal
def _approve_agent(maker: address, agent: address, expiry: uint256):
    assert agent != empty(address) and agent != maker, "settlement: bad agent"
    assert expiry > block.timestamp, "settlement: agent approval already expired"
    self.agentExpiry[maker][agent] = expiry
    log AgentApproved(maker=maker, agent=agent, expiry=expiry)


@view
@internal
def _check_order_signature(digest: bytes32, maker: address, v: uint8, r: bytes32, s: bytes32) -> bool:
    """Reverts unless the maker or one of its agents (ever approved) signed; False for an agent no longer live."""
    assert convert(s, uint256) <= MAX_S, "settlement: invalid signature"
    recovered: address = ecrecover(digest, v, r, s)
    assert recovered != empty(address), "settlement: invalid signature"
    if recovered == maker:
        return True
    expiry: uint256 = self.agentExpiry[maker][recovered]
    assert expiry != 0, "settlement: invalid signature"
    return block.timestamp <= expiry


@view
@internal
def _check_signature(digest: bytes32, signer: address, v: uint8, r: bytes32, s: bytes32):
    assert convert(s, uint256) <= MAX_S, "settlement: invalid signature"
    recovered: address = ecrecover(digest, v, r, s)
    assert recovered != empty(address) and recovered == signer, "settlement: invalid signature"


@view
@internal
def _order_hash(order: Order) -> bytes32:
    """The order's EIP-712 digest (settle() hashes its packed orders the same way, inline)."""
    return self._typed_digest(keccak256(abi_encode(
        ORDER_TYPEHASH, order.maker, order.baseToken, order.quoteToken, order.isBuy, order.baseAmount, order.price,
        order.expiry, order.nonce, order.maxFeeBps, order.maxPlatformFeeRate)))


@view
@internal
def _typed_digest(struct_hash: bytes32) -> bytes32:
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
        raw_call(to, b"", value=amount)  # all the gas, so contract wallets can receive; every caller holds the lock
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
