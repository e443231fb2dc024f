// TimelockController and time-gated calls, in OpenZeppelin's style: hardhat-ethers estimates every transaction
// before sending it, so after time.increase/setNextBlockTimestamp the node must estimate in the next block.
const { ethers } = require("hardhat");
const { expect } = require("chai");
const { loadFixture, time, setBalance, impersonateAccount, stopImpersonatingAccount, takeSnapshot, mine,
        setCode, setStorageAt, getStorageAt } = require("@nomicfoundation/hardhat-network-helpers");

const DELAY = 86400;

async function fixture() {
  const [admin, proposer, executor, stranger] = await ethers.getSigners();
  const timelock = await ethers.deployContract("Timelock", [DELAY, [proposer.address], [executor.address]]);
  const notBefore = (await time.latest()) + 1000;
  const counter = await ethers.deployContract("Counter", [await timelock.getAddress(), notBefore]);
  return { admin, proposer, executor, stranger, timelock, counter, notBefore };
}

describe("TimelockController", function () {
  it("schedules, refuses to execute early, executes after the delay", async function () {
    const { proposer, executor, timelock, counter } = await loadFixture(fixture);
    const data = counter.interface.encodeFunctionData("increment");
    const salt = ethers.id("once");
    const target = await counter.getAddress();
    await expect(timelock.connect(proposer).schedule(target, 0, data, ethers.ZeroHash, salt, DELAY))
      .to.emit(timelock, "CallScheduled");
    await expect(timelock.connect(executor).execute(target, 0, data, ethers.ZeroHash, salt))
      .to.be.revertedWithCustomError(timelock, "TimelockUnexpectedOperationState");
    await time.increase(DELAY);
    await expect(timelock.connect(executor).execute(target, 0, data, ethers.ZeroHash, salt))
      .to.emit(counter, "Counted");
    expect(await counter.count()).to.equal(1n);
  });

  it("only proposers schedule", async function () {
    const { stranger, timelock, counter } = await loadFixture(fixture);
    await expect(timelock.connect(stranger).schedule(await counter.getAddress(), 0, "0x", ethers.ZeroHash,
                                                     ethers.ZeroHash, DELAY))
      .to.be.revertedWithCustomError(timelock, "AccessControlUnauthorizedAccount");
  });
});

describe("hardhat-network-helpers on bourse node", function () {
  it("setNextBlockTimestamp makes a too-early call succeed at once (the estimate sees the next block)", async function () {
    const { counter, timelock, notBefore } = await loadFixture(fixture);
    const owner = await timelock.getAddress();
    await impersonateAccount(owner);
    await setBalance(owner, ethers.parseEther("10"));
    const signer = await ethers.getSigner(owner);
    await expect(counter.connect(signer).increment()).to.be.revertedWith("Counter: too early");
    await time.setNextBlockTimestamp(notBefore);
    await expect(counter.connect(signer).increment()).to.emit(counter, "Counted").withArgs(1n, notBefore);
    await stopImpersonatingAccount(owner);
  });

  it("snapshots restore, mine advances, code and storage can be set", async function () {
    const { counter } = await loadFixture(fixture);
    const snapshot = await takeSnapshot();
    const start = await time.latestBlock();
    await mine(10);
    expect(await time.latestBlock()).to.equal(start + 10);
    await snapshot.restore();
    expect(await time.latestBlock()).to.equal(start);
    const address = await counter.getAddress();
    await setStorageAt(address, 1, 7);  // slot 1: count
    expect(await counter.count()).to.equal(7n);
    expect(BigInt(await getStorageAt(address, 1))).to.equal(7n);
    await setCode(address, "0x00");  // STOP: the contract now does nothing
    expect(await ethers.provider.getCode(address)).to.equal("0x00");
  });
});
