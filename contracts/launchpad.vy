# pragma version 0.4.3
"""
@title Launchpad
@notice Token sales in Binance Launchpad's subscription format, paid in the
        platform token (BRS):
        - holding period: users lock BRS; each user's commitment cap is what
          they locked times the sale's cap ratio;
        - subscription window: users commit BRS up to their cap;
        - after it, each user's allocation is `commit x supply / total
          committed` when the sale is oversubscribed, else `commit / price`;
          what an allocation does not cost is refunded; locked BRS is
          released - all at the user's claim, from the claim time on;
        - the owner collects the BRS raised (as users claim) and the tokens
          left unsold.
        Rounding never favours a claimant over the pool: allocations round
        down and payments round up. Allocations never exceed the supply;
        each user's payment plus refund is exactly their commitment.
@dev Every step emits an event; nothing moves outside its window.
"""

from ethereum.ercs import IERC20

import ownable

initializes: ownable
exports: (ownable.owner, ownable.transferOwnership, ownable.renounceOwnership)

struct Sale:
    token: address
    price: uint256  # BRS units per token unit, x PRICE_SCALE
    supply: uint256  # tokens for sale
    capRatio: uint256  # commitment cap per locked BRS unit, x PRICE_SCALE
    holdStart: uint256
    holdEnd: uint256
    subscribeStart: uint256
    subscribeEnd: uint256
    claimTime: uint256
    totalLocked: uint256
    totalCommitted: uint256
    raised: uint256  # BRS paid by the users who claimed
    collected: uint256  # of it, what the owner has taken
    allocated: uint256  # tokens claimed
    claimedCommitted: uint256  # commitments of the users who claimed
    unsoldWithdrawn: uint256

event SaleCreated:
    saleId: indexed(uint256)
    token: indexed(address)
    price: uint256
    supply: uint256
    capRatio: uint256
    holdStart: uint256
    holdEnd: uint256
    subscribeStart: uint256
    subscribeEnd: uint256
    claimTime: uint256

event Locked:
    saleId: indexed(uint256)
    user: indexed(address)
    amount: uint256

event Committed:
    saleId: indexed(uint256)
    user: indexed(address)
    amount: uint256

event Claimed:
    saleId: indexed(uint256)
    user: indexed(address)
    allocation: uint256
    payment: uint256
    refund: uint256
    unlocked: uint256

event RaisedCollected:
    saleId: indexed(uint256)
    amount: uint256

event UnsoldWithdrawn:
    saleId: indexed(uint256)
    amount: uint256

PRICE_SCALE: public(constant(uint256)) = 10 ** 18

platformToken: public(immutable(address))
saleCount: public(uint256)
sales: public(HashMap[uint256, Sale])
locked: public(HashMap[uint256, HashMap[address, uint256]])
committed: public(HashMap[uint256, HashMap[address, uint256]])
claimed: public(HashMap[uint256, HashMap[address, bool]])


@deploy
def __init__(platform_token: address):
    ownable.__init__()
    assert platform_token != empty(address), "launchpad: zero platform token"
    platformToken = platform_token


@external
def createSale(token: address, price: uint256, supply: uint256, cap_ratio: uint256, hold_start: uint256,
               hold_end: uint256, subscribe_start: uint256, subscribe_end: uint256, claim_time: uint256) -> uint256:
    """
    @notice Open a sale: the owner puts `supply` of `token` into the launchpad.
    @param price BRS units per token unit, x PRICE_SCALE.
    @param cap_ratio Commitment cap per locked BRS unit, x PRICE_SCALE.
    @return The sale's id.
    """
    ownable._check_owner()
    assert token != empty(address) and token != platformToken, "launchpad: bad token"
    assert price > 0 and supply > 0 and cap_ratio > 0, "launchpad: zero price, supply or ratio"
    assert hold_start < hold_end and hold_end <= subscribe_start and subscribe_start < subscribe_end, \
        "launchpad: windows out of order"
    assert subscribe_end <= claim_time, "launchpad: claim before the subscription ends"
    sale_id: uint256 = self.saleCount + 1
    self.saleCount = sale_id
    self.sales[sale_id] = Sale(token=token, price=price, supply=supply, capRatio=cap_ratio, holdStart=hold_start,
                               holdEnd=hold_end, subscribeStart=subscribe_start, subscribeEnd=subscribe_end,
                               claimTime=claim_time, totalLocked=0, totalCommitted=0, raised=0, collected=0,
                               allocated=0, claimedCommitted=0, unsoldWithdrawn=0)
    assert extcall IERC20(token).transferFrom(msg.sender, self, supply, default_return_value=True), \
        "launchpad: token transfer failed"
    log SaleCreated(saleId=sale_id, token=token, price=price, supply=supply, capRatio=cap_ratio,
                    holdStart=hold_start, holdEnd=hold_end, subscribeStart=subscribe_start,
                    subscribeEnd=subscribe_end, claimTime=claim_time)
    return sale_id


@external
@nonreentrant
def lock(sale_id: uint256, amount: uint256):
    """
    @notice Lock BRS during the holding period; it sets the cap of what you may commit.
    """
    self._exists(sale_id)  # the fields it needs, not the whole sale: each is a storage read
    assert self.sales[sale_id].holdStart <= block.timestamp and block.timestamp < self.sales[sale_id].holdEnd, \
        "launchpad: not in the holding period"
    assert amount > 0, "launchpad: zero amount"
    self.locked[sale_id][msg.sender] += amount
    self.sales[sale_id].totalLocked += amount
    self._take(amount)
    log Locked(saleId=sale_id, user=msg.sender, amount=amount)


@external
@nonreentrant
def commit(sale_id: uint256, amount: uint256):
    """
    @notice Commit BRS to the sale during the subscription window, up to your cap.
    """
    self._exists(sale_id)
    assert self.sales[sale_id].subscribeStart <= block.timestamp and \
        block.timestamp < self.sales[sale_id].subscribeEnd, "launchpad: not in the subscription window"
    assert amount > 0, "launchpad: zero amount"
    total: uint256 = self.committed[sale_id][msg.sender] + amount
    cap: uint256 = self.locked[sale_id][msg.sender] * self.sales[sale_id].capRatio // PRICE_SCALE
    assert total <= cap, "launchpad: above your cap"
    self.committed[sale_id][msg.sender] = total
    self.sales[sale_id].totalCommitted += amount
    self._take(amount)
    log Committed(saleId=sale_id, user=msg.sender, amount=amount)


@view
@external
def cap(sale_id: uint256, user: address) -> uint256:
    """
    @notice The most `user` may commit in total: what they locked times the cap ratio.
    """
    return self._cap(self._sale(sale_id), self.locked[sale_id][user])


@view
@external
def allocationOf(sale_id: uint256, user: address) -> (uint256, uint256, uint256):
    """
    @notice (tokens allocated, BRS paid, BRS refunded) for `user`, from the commitments so far (final once the
            subscription window has closed).
    """
    return self._allocation(self._sale(sale_id), self.committed[sale_id][user])


@external
@nonreentrant
def claim(sale_id: uint256):
    """
    @notice From the claim time: your tokens, the refund of what they did not cost, and your locked BRS. Once.
    """
    sale: Sale = self._sale(sale_id)
    assert block.timestamp >= sale.claimTime, "launchpad: claims have not opened"
    assert not self.claimed[sale_id][msg.sender], "launchpad: already claimed"
    user_commit: uint256 = self.committed[sale_id][msg.sender]
    unlocked: uint256 = self.locked[sale_id][msg.sender]
    assert user_commit > 0 or unlocked > 0, "launchpad: nothing to claim"
    self.claimed[sale_id][msg.sender] = True
    allocation: uint256 = 0
    payment: uint256 = 0
    refund: uint256 = 0
    allocation, payment, refund = self._allocation(sale, user_commit)
    self.sales[sale_id].raised = sale.raised + payment
    self.sales[sale_id].allocated = sale.allocated + allocation
    self.sales[sale_id].claimedCommitted = sale.claimedCommitted + user_commit
    if allocation > 0:
        assert extcall IERC20(sale.token).transfer(msg.sender, allocation, default_return_value=True), \
            "launchpad: token transfer failed"
    if refund + unlocked > 0:
        assert extcall IERC20(platformToken).transfer(msg.sender, refund + unlocked, default_return_value=True), \
            "launchpad: BRS transfer failed"
    log Claimed(saleId=sale_id, user=msg.sender, allocation=allocation, payment=payment, refund=refund,
                unlocked=unlocked)


@external
@nonreentrant
def collectRaised(sale_id: uint256):
    """
    @notice The owner takes the BRS raised so far (it grows as users claim).
    """
    ownable._check_owner()
    sale: Sale = self._sale(sale_id)
    assert block.timestamp >= sale.claimTime, "launchpad: claims have not opened"
    amount: uint256 = sale.raised - sale.collected
    assert amount > 0, "launchpad: nothing to collect"
    self.sales[sale_id].collected = sale.raised
    assert extcall IERC20(platformToken).transfer(msg.sender, amount, default_return_value=True), \
        "launchpad: BRS transfer failed"
    log RaisedCollected(saleId=sale_id, amount=amount)


@view
@external
def unsold(sale_id: uint256) -> uint256:
    """
    @notice Tokens the owner may take back now: the supply beyond what the commitments can ever be allocated, and
            once every committer has claimed, the rounding remainder too.
    """
    return self._unsold(self._sale(sale_id))


@external
@nonreentrant
def withdrawUnsold(sale_id: uint256):
    """
    @notice The owner takes back the tokens left unsold (see `unsold`).
    """
    ownable._check_owner()
    sale: Sale = self._sale(sale_id)
    assert block.timestamp >= sale.claimTime, "launchpad: claims have not opened"
    amount: uint256 = self._unsold(sale)
    assert amount > 0, "launchpad: nothing unsold"
    self.sales[sale_id].unsoldWithdrawn = sale.unsoldWithdrawn + amount
    assert extcall IERC20(sale.token).transfer(msg.sender, amount, default_return_value=True), \
        "launchpad: token transfer failed"
    log UnsoldWithdrawn(saleId=sale_id, amount=amount)


@view
@internal
def _exists(sale_id: uint256):
    assert sale_id > 0 and sale_id <= self.saleCount, "launchpad: no such sale"


@view
@internal
def _sale(sale_id: uint256) -> Sale:
    self._exists(sale_id)
    return self.sales[sale_id]


@view
@internal
def _cap(sale: Sale, user_locked: uint256) -> uint256:
    return user_locked * sale.capRatio // PRICE_SCALE


@view
@internal
def _demand(sale: Sale) -> uint256:
    """Tokens the total commitment would buy at the price (rounded down)."""
    return sale.totalCommitted * PRICE_SCALE // sale.price


@view
@internal
def _allocation(sale: Sale, user_commit: uint256) -> (uint256, uint256, uint256):
    if user_commit == 0:
        return 0, 0, 0
    allocation: uint256 = 0
    if self._demand(sale) > sale.supply:  # oversubscribed: pro rata
        allocation = user_commit * sale.supply // sale.totalCommitted
    else:
        allocation = user_commit * PRICE_SCALE // sale.price
    payment: uint256 = min(user_commit, (allocation * sale.price + PRICE_SCALE - 1) // PRICE_SCALE)
    return allocation, payment, user_commit - payment


@view
@internal
def _unsold(sale: Sale) -> uint256:
    reserved: uint256 = min(sale.supply, self._demand(sale))  # every allocation together stays within it
    if sale.claimedCommitted == sale.totalCommitted:  # every committer has claimed: only what they took is gone
        reserved = sale.allocated
    return sale.supply - reserved - sale.unsoldWithdrawn


@internal
def _take(amount: uint256):
    assert extcall IERC20(platformToken).transferFrom(msg.sender, self, amount, default_return_value=True), \
        "launchpad: BRS transfer failed"
