# pragma version 0.4.3
"""
@title Bourse Coin (BRS): the platform token
@notice A BEP-20 token in the style of the original BNB: a fixed supply minted
        to the owner, `burn` to destroy tokens, `freeze`/`unfreeze` to park
        balance in `freezeOf`, EIP-2612 `permit`, and `getOwner()` as BEP-20 asks.
@dev Revert strings start with "token:". The settlement vault gives a fee
     discount to users who pay fees in this token.
"""

from ethereum.ercs import IERC20
from ethereum.ercs import IERC20Detailed

implements: IERC20
implements: IERC20Detailed

import ownable

initializes: ownable
exports: (ownable.owner, ownable.transferOwnership, ownable.renounceOwnership)

event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256

event Burn:
    account: indexed(address)
    value: uint256

event Freeze:
    account: indexed(address)
    value: uint256

event Unfreeze:
    account: indexed(address)
    value: uint256


EIP712_TYPEHASH: constant(bytes32) = keccak256(
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
PERMIT_TYPEHASH: constant(bytes32) = keccak256(
    "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
)
VERSION: constant(String[8]) = "1"
# secp256k1n / 2: signatures with a higher s are malleable copies (EIP-2)
MAX_S: constant(uint256) = 57_896_044_618_658_097_711_785_492_504_343_953_926_418_782_139_537_452_191_302_581_570_759_080_747_168

name: public(String[64])
symbol: public(String[32])
decimals: public(uint8)
totalSupply: public(uint256)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
freezeOf: public(HashMap[address, uint256])
nonces: public(HashMap[address, uint256])

_NAME_HASH: immutable(bytes32)
_CACHED_CHAIN_ID: immutable(uint256)
_CACHED_DOMAIN_SEPARATOR: immutable(bytes32)


@deploy
def __init__(name_: String[64], symbol_: String[32], supply: uint256):
    ownable.__init__()
    self.name = name_
    self.symbol = symbol_
    self.decimals = 18
    self.totalSupply = supply
    self.balanceOf[msg.sender] = supply
    _NAME_HASH = keccak256(name_)
    _CACHED_CHAIN_ID = chain.id
    _CACHED_DOMAIN_SEPARATOR = self._domain_separator(keccak256(name_))
    log Transfer(sender=empty(address), receiver=msg.sender, value=supply)


@view
@external
def getOwner() -> address:
    """
    @notice The token owner (BEP-20).
    @return The owner's address.
    """
    return ownable.owner


@external
def transfer(receiver: address, amount: uint256) -> bool:
    """
    @notice Move `amount` tokens from the caller to `receiver`.
    @param receiver Recipient (not the zero address; burn with `burn`).
    @param amount Amount in the smallest unit.
    @return True.
    """
    self._transfer(msg.sender, receiver, amount)
    return True


@external
def transferFrom(owner: address, receiver: address, amount: uint256) -> bool:
    """
    @notice Move `amount` tokens from `owner` to `receiver` using the caller's allowance.
    @param owner Account the tokens leave.
    @param receiver Recipient.
    @param amount Amount.
    @return True.
    """
    allowed: uint256 = self.allowance[owner][msg.sender]
    if allowed != max_value(uint256):
        assert allowed >= amount, "token: insufficient allowance"
        self.allowance[owner][msg.sender] = allowed - amount
    self._transfer(owner, receiver, amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    """
    @notice Let `spender` move up to `amount` of the caller's tokens (max uint256: unlimited).
    @param spender The allowed account.
    @param amount The allowance.
    @return True.
    """
    self._approve(msg.sender, spender, amount)
    return True


@external
def burn(amount: uint256) -> bool:
    """
    @notice Destroy `amount` of the caller's tokens, reducing the total supply.
    @param amount Amount to burn.
    @return True.
    """
    balance: uint256 = self.balanceOf[msg.sender]
    assert amount > 0, "token: burn of zero"
    assert balance >= amount, "token: burn exceeds balance"
    self.balanceOf[msg.sender] = balance - amount
    self.totalSupply -= amount
    log Burn(account=msg.sender, value=amount)
    log Transfer(sender=msg.sender, receiver=empty(address), value=amount)
    return True


@external
def freeze(amount: uint256) -> bool:
    """
    @notice Move `amount` of the caller's balance into `freezeOf` (still counted in supply).
    @param amount Amount to freeze.
    @return True.
    """
    balance: uint256 = self.balanceOf[msg.sender]
    assert amount > 0, "token: freeze of zero"
    assert balance >= amount, "token: freeze exceeds balance"
    self.balanceOf[msg.sender] = balance - amount
    self.freezeOf[msg.sender] += amount
    log Freeze(account=msg.sender, value=amount)
    return True


@external
def unfreeze(amount: uint256) -> bool:
    """
    @notice Move `amount` from `freezeOf` back into the caller's balance.
    @param amount Amount to unfreeze.
    @return True.
    """
    frozen: uint256 = self.freezeOf[msg.sender]
    assert amount > 0, "token: unfreeze of zero"
    assert frozen >= amount, "token: unfreeze exceeds frozen"
    self.freezeOf[msg.sender] = frozen - amount
    self.balanceOf[msg.sender] += amount
    log Unfreeze(account=msg.sender, value=amount)
    return True


@external
def permit(owner: address, spender: address, amount: uint256, deadline: uint256, v: uint8, r: bytes32, s: bytes32):
    """
    @notice Approve by the owner's EIP-712 signature instead of a transaction (EIP-2612).
    @param owner The signer, whose tokens are approved.
    @param spender The allowed account.
    @param amount The allowance.
    @param deadline Last valid timestamp.
    @param v Signature recovery id (27 or 28).
    @param r Signature r.
    @param s Signature s (lower half only).
    """
    assert block.timestamp <= deadline, "token: permit expired"
    assert convert(s, uint256) <= MAX_S, "token: invalid signature"
    nonce: uint256 = self.nonces[owner]
    digest: bytes32 = keccak256(concat(
        b"\x19\x01",
        self._domain_separator_v4(),
        keccak256(abi_encode(PERMIT_TYPEHASH, owner, spender, amount, nonce, deadline)),
    ))
    signer: address = ecrecover(digest, v, r, s)
    assert signer != empty(address) and signer == owner, "token: invalid signature"
    self.nonces[owner] = nonce + 1
    self._approve(owner, spender, amount)


@view
@external
def DOMAIN_SEPARATOR() -> bytes32:
    """
    @notice The EIP-712 domain separator for `permit` on this chain.
    @return The separator.
    """
    return self._domain_separator_v4()


@internal
def _transfer(owner: address, receiver: address, amount: uint256):
    assert receiver != empty(address), "token: transfer to the zero address"
    balance: uint256 = self.balanceOf[owner]
    assert balance >= amount, "token: transfer exceeds balance"
    self.balanceOf[owner] = balance - amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=owner, receiver=receiver, value=amount)


@internal
def _approve(owner: address, spender: address, amount: uint256):
    assert spender != empty(address), "token: approve to the zero address"
    self.allowance[owner][spender] = amount
    log Approval(owner=owner, spender=spender, value=amount)


@view
@internal
def _domain_separator_v4() -> bytes32:
    if chain.id == _CACHED_CHAIN_ID:
        return _CACHED_DOMAIN_SEPARATOR
    return self._domain_separator(_NAME_HASH)


@view
@internal
def _domain_separator(name_hash: bytes32) -> bytes32:
    return keccak256(abi_encode(EIP712_TYPEHASH, name_hash, keccak256(VERSION), chain.id, self))
