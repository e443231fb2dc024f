# pragma version 0.4.3
"""
@title Merkle distributor
@notice Trade-mining rewards in the platform token (BRS), one Merkle root per
        epoch: the publisher (the exchange's operator) publishes each epoch's
        root and total, never more than what the owner funded and is not yet
        promised; each (epoch, account, amount) leaf is claimed once, by a
        proof, paid to its account.
@dev A leaf is keccak256(abi_encode(epoch, account, amount)); a parent is the
     keccak256 of its two children in ascending order (OpenZeppelin's
     MerkleProof convention), so a proof is the list of siblings.
"""

from ethereum.ercs import IERC20

import ownable

initializes: ownable
exports: (ownable.owner, ownable.transferOwnership, ownable.renounceOwnership)

event Funded:
    sender: indexed(address)
    amount: uint256

event PublisherSet:
    publisher: indexed(address)

event RootPublished:
    epoch: indexed(uint256)
    root: bytes32
    total: uint256

event Claimed:
    epoch: indexed(uint256)
    account: indexed(address)
    amount: uint256

MAX_DEPTH: constant(uint256) = 32

token: public(immutable(address))
publisher: public(address)
funded: public(uint256)  # everything ever put in
promised: public(uint256)  # the totals of every published epoch
roots: public(HashMap[uint256, bytes32])
totals: public(HashMap[uint256, uint256])
claimedTotal: public(HashMap[uint256, uint256])
claimed: public(HashMap[uint256, HashMap[address, bool]])


@deploy
def __init__(reward_token: address, publisher: address):
    ownable.__init__()
    assert reward_token != empty(address) and publisher != empty(address), "distributor: zero address"
    token = reward_token
    self.publisher = publisher
    log PublisherSet(publisher=publisher)


@external
def setPublisher(publisher: address):
    """
    @notice Who may publish epochs' roots (the owner's choice; an event says so).
    """
    ownable._check_owner()
    assert publisher != empty(address), "distributor: zero address"
    self.publisher = publisher
    log PublisherSet(publisher=publisher)


@external
def fund(amount: uint256):
    """
    @notice Put `amount` of the reward token in (anyone may; the owner does).
    """
    assert amount > 0, "distributor: zero amount"
    self.funded += amount
    assert extcall IERC20(token).transferFrom(msg.sender, self, amount, default_return_value=True), \
        "distributor: transfer failed"
    log Funded(sender=msg.sender, amount=amount)


@external
def publish(epoch: uint256, root: bytes32, total: uint256):
    """
    @notice Publish an epoch's Merkle root and the total of its leaves; once per epoch, never beyond the funds.
    """
    assert msg.sender == self.publisher, "distributor: caller is not the publisher"
    assert root != empty(bytes32) and total > 0, "distributor: empty epoch"
    assert self.roots[epoch] == empty(bytes32), "distributor: epoch already published"
    assert self.promised + total <= self.funded, "distributor: not enough funds"
    self.promised += total
    self.roots[epoch] = root
    self.totals[epoch] = total
    log RootPublished(epoch=epoch, root=root, total=total)


@external
def claim(epoch: uint256, account: address, amount: uint256, proof: DynArray[bytes32, MAX_DEPTH]):
    """
    @notice Pay `account` its `amount` for `epoch` (anyone may send the proof; the money goes to the account).
    """
    root: bytes32 = self.roots[epoch]
    assert root != empty(bytes32), "distributor: epoch not published"
    assert not self.claimed[epoch][account], "distributor: already claimed"
    node: bytes32 = keccak256(abi_encode(epoch, account, amount))
    for sibling: bytes32 in proof:
        if convert(node, uint256) < convert(sibling, uint256):
            node = keccak256(concat(node, sibling))
        else:
            node = keccak256(concat(sibling, node))
    assert node == root, "distributor: invalid proof"
    self.claimed[epoch][account] = True
    claimed_total: uint256 = self.claimedTotal[epoch] + amount
    assert claimed_total <= self.totals[epoch], "distributor: beyond the epoch's total"
    self.claimedTotal[epoch] = claimed_total
    assert extcall IERC20(token).transfer(account, amount, default_return_value=True), "distributor: transfer failed"
    log Claimed(epoch=epoch, account=account, amount=amount)
