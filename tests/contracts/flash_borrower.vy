# pragma version 0.4.3
# Test helper: borrows from a pair with a flash swap, then repays, re-enters or keeps the loan.

from ethereum.ercs import IERC20

interface IPair:
    def swap(amount0Out: uint256, amount1Out: uint256, to: address, data: Bytes[1024]): nonpayable
    def sync(): nonpayable
    def token0() -> address: view

mode: public(uint256)  # 0 repay, 1 re-enter the pair, 2 keep the loan
repay: public(uint256)


@external
def borrow(pair: address, amount0: uint256, mode_: uint256, repay_: uint256):
    self.mode = mode_
    self.repay = repay_
    extcall IPair(pair).swap(amount0, 0, self, b"flash")


@external
def pancakeCall(sender: address, amount0: uint256, amount1: uint256, data: Bytes[1024]):
    if self.mode == 1:
        extcall IPair(msg.sender).sync()
    if self.mode != 2:
        extcall IERC20(staticcall IPair(msg.sender).token0()).transfer(msg.sender, self.repay)
