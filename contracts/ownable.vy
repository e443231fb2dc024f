# pragma version 0.4.3
"""
@title Ownable
@notice A single owner, transferable; shared by the platform contracts as a module.
"""

event OwnershipTransferred:
    previous_owner: indexed(address)
    new_owner: indexed(address)


owner: public(address)


@deploy
def __init__():
    self._transfer_ownership(msg.sender)


@external
def transferOwnership(new_owner: address):
    """
    @notice Hand the contract to `new_owner` (not the zero address).
    @param new_owner The next owner.
    """
    self._check_owner()
    assert new_owner != empty(address), "ownable: new owner is the zero address"
    self._transfer_ownership(new_owner)


@external
def renounceOwnership():
    """
    @notice Leave the contract without an owner; owner-only functions become unusable.
    """
    self._check_owner()
    self._transfer_ownership(empty(address))


@internal
def _check_owner():
    assert msg.sender == self.owner, "ownable: caller is not the owner"


@internal
def _transfer_ownership(new_owner: address):
    old_owner: address = self.owner
    self.owner = new_owner
    log OwnershipTransferred(previous_owner=old_owner, new_owner=new_owner)
