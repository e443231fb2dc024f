# pragma version 0.4.3
"""
@title Listing vote
@notice Community coin-listing votes: the owner opens a round with candidate
        tokens and how many of them win; during the round each address casts
        one vote for one candidate, weighted by the BRS it locks with it;
        after the round anyone finalizes it, which emits `Listed(token,
        round)` for each winner (most votes first; a tie goes to the earlier
        candidate; a candidate with no votes never wins), and every voter
        takes its BRS back.
"""

from ethereum.ercs import IERC20

import ownable

initializes: ownable
exports: (ownable.owner, ownable.transferOwnership, ownable.renounceOwnership)

MAX_CANDIDATES: constant(uint256) = 16

struct Round:
    start: uint256
    end: uint256
    winners: uint256
    finalized: bool
    totalLocked: uint256

event RoundCreated:
    roundId: indexed(uint256)
    start: uint256
    end: uint256
    winners: uint256
    candidates: DynArray[address, MAX_CANDIDATES]

event Voted:
    roundId: indexed(uint256)
    voter: indexed(address)
    token: indexed(address)
    weight: uint256

event Withdrawn:
    roundId: indexed(uint256)
    voter: indexed(address)
    amount: uint256

event Listed:
    token: indexed(address)
    roundId: indexed(uint256)
    votes: uint256

platformToken: public(immutable(address))
roundCount: public(uint256)
rounds: public(HashMap[uint256, Round])
candidates: public(HashMap[uint256, DynArray[address, MAX_CANDIDATES]])
votes: public(HashMap[uint256, HashMap[address, uint256]])  # round -> token -> weight
lockedBy: public(HashMap[uint256, HashMap[address, uint256]])  # round -> voter -> BRS locked (0 once withdrawn)
voted: public(HashMap[uint256, HashMap[address, bool]])


@deploy
def __init__(platform_token: address):
    ownable.__init__()
    assert platform_token != empty(address), "vote: zero platform token"
    platformToken = platform_token


@external
def createRound(candidates: DynArray[address, MAX_CANDIDATES], start: uint256, end: uint256,
                winners: uint256) -> uint256:
    """
    @notice Open a round over `candidates` (distinct tokens), voting in [start, end); `winners` of them get listed.
    @return The round's id.
    """
    ownable._check_owner()
    assert len(candidates) > 0 and winners > 0 and winners <= len(candidates), "vote: bad candidates or winners"
    assert start < end, "vote: window out of order"
    for i: uint256 in range(len(candidates), bound=MAX_CANDIDATES):
        assert candidates[i] != empty(address) and candidates[i] != platformToken, "vote: bad candidate"
        for j: uint256 in range(i, bound=MAX_CANDIDATES):
            assert candidates[j] != candidates[i], "vote: duplicate candidate"
    round_id: uint256 = self.roundCount + 1
    self.roundCount = round_id
    self.rounds[round_id] = Round(start=start, end=end, winners=winners, finalized=False, totalLocked=0)
    self.candidates[round_id] = candidates
    log RoundCreated(roundId=round_id, start=start, end=end, winners=winners, candidates=candidates)
    return round_id


@external
@nonreentrant
def vote(round_id: uint256, token: address, amount: uint256):
    """
    @notice Vote for `token` with `amount` BRS locked until the round ends: one vote per address per round.
    """
    self._exists(round_id)
    assert self.rounds[round_id].start <= block.timestamp and block.timestamp < self.rounds[round_id].end, \
        "vote: round not open"
    assert amount > 0, "vote: zero amount"
    assert not self.voted[round_id][msg.sender], "vote: already voted in this round"
    assert token in self.candidates[round_id], "vote: not a candidate"
    self.voted[round_id][msg.sender] = True
    self.lockedBy[round_id][msg.sender] = amount
    self.votes[round_id][token] += amount
    self.rounds[round_id].totalLocked += amount
    assert extcall IERC20(platformToken).transferFrom(msg.sender, self, amount, default_return_value=True), \
        "vote: BRS transfer failed"
    log Voted(roundId=round_id, voter=msg.sender, token=token, weight=amount)


@external
@nonreentrant
def withdraw(round_id: uint256):
    """
    @notice After the round: take back the BRS you locked with your vote.
    """
    self._exists(round_id)
    assert block.timestamp >= self.rounds[round_id].end, "vote: round still open"
    amount: uint256 = self.lockedBy[round_id][msg.sender]
    assert amount > 0, "vote: nothing locked"
    self.lockedBy[round_id][msg.sender] = 0
    self.rounds[round_id].totalLocked -= amount
    assert extcall IERC20(platformToken).transfer(msg.sender, amount, default_return_value=True), \
        "vote: BRS transfer failed"
    log Withdrawn(roundId=round_id, voter=msg.sender, amount=amount)


@external
def finalize(round_id: uint256) -> DynArray[address, MAX_CANDIDATES]:
    """
    @notice After the round (anyone, once): emit Listed for its winners, most votes first.
    @return The winners.
    """
    self._exists(round_id)
    assert block.timestamp >= self.rounds[round_id].end, "vote: round still open"
    assert not self.rounds[round_id].finalized, "vote: already finalized"
    self.rounds[round_id].finalized = True
    names: DynArray[address, MAX_CANDIDATES] = self.candidates[round_id]
    taken: DynArray[bool, MAX_CANDIDATES] = []
    for i: uint256 in range(len(names), bound=MAX_CANDIDATES):
        taken.append(False)
    winners: DynArray[address, MAX_CANDIDATES] = []
    for _: uint256 in range(self.rounds[round_id].winners, bound=MAX_CANDIDATES):
        best: uint256 = 0
        found: bool = False
        pick: uint256 = 0
        for i: uint256 in range(len(names), bound=MAX_CANDIDATES):
            weight: uint256 = self.votes[round_id][names[i]]
            if not taken[i] and weight > best:
                best = weight
                pick = i
                found = True
        if not found:
            break
        taken[pick] = True
        winners.append(names[pick])
        log Listed(token=names[pick], roundId=round_id, votes=best)
    return winners


@view
@external
def candidatesOf(round_id: uint256) -> DynArray[address, MAX_CANDIDATES]:
    return self.candidates[round_id]


@view
@internal
def _exists(round_id: uint256):
    assert round_id > 0 and round_id <= self.roundCount, "vote: no such round"
