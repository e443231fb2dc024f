// ERC20Votes checkpoints, in OpenZeppelin's test style, on bourse node: delegation, transfers moving votes, past
// votes by block and by timestamp (ERC-6372 clock), permit-style delegation signatures, snapshots between tests.
const { ethers } = require("hardhat");
const { expect } = require("chai");
const { loadFixture, mine, time } = require("@nomicfoundation/hardhat-network-helpers");

async function fixture() {
  const [holder, recipient, delegatee, other] = await ethers.getSigners();
  const token = await ethers.deployContract("VotesToken");
  const timed = await ethers.deployContract("TimestampVotesToken");
  return { holder, recipient, delegatee, other, token, timed };
}

describe("ERC20Votes", function () {
  it("starts with no votes until someone delegates", async function () {
    const { holder, token } = await loadFixture(fixture);
    expect(await token.getVotes(holder)).to.equal(0n);
    expect(await token.delegates(holder)).to.equal(ethers.ZeroAddress);
  });

  it("delegation moves the voting power and emits the events", async function () {
    const { holder, delegatee, token } = await loadFixture(fixture);
    const supply = await token.totalSupply();
    await expect(token.connect(holder).delegate(delegatee))
      .to.emit(token, "DelegateChanged").withArgs(holder, ethers.ZeroAddress, delegatee)
      .to.emit(token, "DelegateVotesChanged").withArgs(delegatee, 0n, supply);
    expect(await token.getVotes(delegatee)).to.equal(supply);
  });

  it("transfers move votes between delegates, and past votes are read by block", async function () {
    const { holder, recipient, token } = await loadFixture(fixture);
    await token.connect(holder).delegate(holder);
    await token.connect(recipient).delegate(recipient);
    const before = await time.latestBlock();
    await mine(3);
    await token.connect(holder).transfer(recipient, ethers.parseEther("100"));
    const after = await time.latestBlock();
    await mine();
    expect(await token.getVotes(recipient)).to.equal(ethers.parseEther("100"));
    expect(await token.getPastVotes(recipient, before)).to.equal(0n);
    expect(await token.getPastVotes(recipient, after)).to.equal(ethers.parseEther("100"));
    await expect(token.getPastVotes(recipient, after + 10))
      .to.be.revertedWithCustomError(token, "ERC5805FutureLookup");
  });

  it("a timestamp clock reads the next block's time after time.increase", async function () {
    const { holder, timed } = await loadFixture(fixture);
    expect(await timed.CLOCK_MODE()).to.equal("mode=timestamp");
    await timed.connect(holder).delegate(holder);
    const t0 = await time.latest();
    await time.increase(3600);
    expect(await timed.getPastVotes(holder, t0)).to.equal(await timed.totalSupply());
    await expect(timed.getPastVotes(holder, (await time.latest()) + 5))
      .to.be.revertedWithCustomError(timed, "ERC5805FutureLookup");
  });

  it("delegateBySig accepts a signed delegation once", async function () {
    const { holder, delegatee, other, token } = await loadFixture(fixture);
    const expiry = (await time.latest()) + 3600;
    const nonce = await token.nonces(holder);
    const domain = { name: "Votes", version: "1", chainId: (await ethers.provider.getNetwork()).chainId,
                     verifyingContract: await token.getAddress() };
    const types = { Delegation: [{ name: "delegatee", type: "address" }, { name: "nonce", type: "uint256" },
                                 { name: "expiry", type: "uint256" }] };
    const { v, r, s } = ethers.Signature.from(
      await holder.signTypedData(domain, types, { delegatee: delegatee.address, nonce, expiry }));
    await token.connect(other).delegateBySig(delegatee, nonce, expiry, v, r, s);
    expect(await token.delegates(holder)).to.equal(delegatee.address);
    await expect(token.connect(other).delegateBySig(delegatee, nonce, expiry, v, r, s))
      .to.be.revertedWithCustomError(token, "InvalidAccountNonce");
  });
});
