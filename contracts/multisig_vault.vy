# pragma version 0.4.3
"""
@title Multisig vault for cold storage
@notice N owners, threshold M. Owners sign a transaction offline (EIP-712,
        with the vault's nonce and a deadline); anyone submits it with M
        signatures before the deadline. It can call any contract, send native
        coin or ERC-20s; owners and threshold change only through a transaction
        the vault makes to itself. A call that reverts still uses up its nonce
        (Executed with success false), so its signatures cannot be replayed
        later; a submitter who gives too little gas for the call gets a revert
        instead, and the nonce stays.
@dev Revert strings start with "multisig:". Signatures are passed sorted by
     signer address, which rules out counting one owner twice.
"""

struct Signature:
    v: uint8
    r: bytes32
    s: bytes32

event Executed:
    nonce: indexed(uint256)
    to: indexed(address)
    value: uint256
    dataHash: bytes32
    success: bool

event OwnersChanged:
    owners: DynArray[address, MAX_OWNERS]
    threshold: uint256

event Received:
    sender: indexed(address)
    amount: uint256


MAX_OWNERS: constant(uint256) = 20
MAX_DATA: constant(uint256) = 4096
MAX_S: constant(uint256) = 57_896_044_618_658_097_711_785_492_504_343_953_926_418_782_139_537_452_191_302_581_570_759_080_747_168
EIP712_TYPEHASH: constant(bytes32) = keccak256(
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
TX_TYPEHASH: public(constant(bytes32)) = keccak256(
    "Transaction(address to,uint256 value,bytes data,uint256 nonce,uint256 deadline)"
)
NAME: constant(String[32]) = "Bourse Multisig"
VERSION: constant(String[8]) = "1"

owners: public(DynArray[address, MAX_OWNERS])
isOwner: public(HashMap[address, bool])
threshold: public(uint256)
nonce: public(uint256)


@deploy
def __init__(owners_: DynArray[address, MAX_OWNERS], threshold_: uint256):
    self._set_owners(owners_, threshold_)


@payable
@external
def __default__():
    """
    @notice Accept native coin.
    """
    log Received(sender=msg.sender, amount=msg.value)


@external
@nonreentrant
def execute(to: address, amount: uint256, data: Bytes[MAX_DATA], deadline: uint256,
            signatures: DynArray[Signature, MAX_OWNERS]) -> (bool, Bytes[MAX_DATA]):
    """
    @notice Run a transaction approved by at least `threshold` owners, before its deadline.
    @param to Target (this vault itself to change owners).
    @param amount Native coin to send with the call.
    @param data Calldata.
    @param deadline Last timestamp the signatures are good for.
    @param signatures Owners' signatures of the transaction, sorted by signer address.
    @return Whether the call succeeded, and what it returned (its revert data if not).
    """
    assert block.timestamp <= deadline, "multisig: signatures expired"
    digest: bytes32 = self._digest(to, amount, data, self.nonce, deadline)
    assert len(signatures) >= self.threshold, "multisig: not enough signatures"
    last: uint160 = 0
    for sig: Signature in signatures:
        assert convert(sig.s, uint256) <= MAX_S, "multisig: invalid signature"
        signer: address = ecrecover(digest, sig.v, sig.r, sig.s)
        assert signer != empty(address), "multisig: invalid signature"
        assert self.isOwner[signer], "multisig: signer is not an owner"
        assert convert(signer, uint160) > last, "multisig: signatures not sorted by signer"
        last = convert(signer, uint160)
    executed: uint256 = self.nonce
    self.nonce = executed + 1
    success: bool = False
    response: Bytes[MAX_DATA] = b""
    gas_before: uint256 = msg.gas
    success, response = raw_call(to, data, value=amount, max_outsize=MAX_DATA, revert_on_failure=False)
    # A call that failed with no more than the 1/64 of the gas EIP-150 keeps back left ran out of the gas the
    # submitter gave: revert, so that a submitter cannot burn the owners' signatures by sending too little gas.
    assert success or msg.gas > gas_before // 64, "multisig: not enough gas for the call"
    log Executed(nonce=executed, to=to, value=amount, dataHash=keccak256(data), success=success)
    return success, response


@external
def setOwners(new_owners: DynArray[address, MAX_OWNERS], new_threshold: uint256):
    """
    @notice Replace the owners and threshold; only the vault itself may call this (via execute).
    @param new_owners Owners, sorted ascending and unique.
    @param new_threshold Signatures needed, between 1 and the number of owners.
    """
    assert msg.sender == self, "multisig: only through the vault"
    for owner: address in self.owners:
        self.isOwner[owner] = False
    self._set_owners(new_owners, new_threshold)


@view
@external
def transactionHash(to: address, amount: uint256, data: Bytes[MAX_DATA], nonce_: uint256,
                    deadline: uint256) -> bytes32:
    """
    @notice The EIP-712 digest owners sign for a transaction.
    @param to Target.
    @param amount Native coin sent.
    @param data Calldata.
    @param nonce_ The vault nonce it is for.
    @param deadline Last timestamp the signatures are good for.
    @return The digest.
    """
    return self._digest(to, amount, data, nonce_, deadline)


@view
@external
def getOwners() -> DynArray[address, MAX_OWNERS]:
    """
    @notice All owners, sorted.
    @return The owners.
    """
    return self.owners


@view
@external
def DOMAIN_SEPARATOR() -> bytes32:
    """
    @notice The EIP-712 domain separator of this vault.
    @return The separator.
    """
    return self._domain_separator()


@internal
def _set_owners(new_owners: DynArray[address, MAX_OWNERS], new_threshold: uint256):
    assert len(new_owners) > 0, "multisig: no owners"
    assert new_threshold >= 1 and new_threshold <= len(new_owners), "multisig: bad threshold"
    last: uint160 = 0
    for owner: address in new_owners:
        assert convert(owner, uint160) > last, "multisig: owners not sorted and unique"
        last = convert(owner, uint160)
        self.isOwner[owner] = True
    self.owners = new_owners
    self.threshold = new_threshold
    log OwnersChanged(owners=new_owners, threshold=new_threshold)


@view
@internal
def _digest(to: address, amount: uint256, data: Bytes[MAX_DATA], nonce_: uint256, deadline: uint256) -> bytes32:
    struct_hash: bytes32 = keccak256(abi_encode(TX_TYPEHASH, to, amount, keccak256(data), nonce_, deadline))
    return keccak256(concat(b"\x19\x01", self._domain_separator(), struct_hash))


@view
@internal
def _domain_separator() -> bytes32:
    return keccak256(abi_encode(EIP712_TYPEHASH, keccak256(NAME), keccak256(VERSION), chain.id, self))
