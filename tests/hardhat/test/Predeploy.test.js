// hardhat-predeploy (what OpenZeppelin's ERC-4337 tests use) recognises bourse node as a development network and
// places the ERC-4337 entry points with hardhat_setCode; they then work as on hardhat's own network.
const { expect } = require("chai");
const { ethers, predeploy } = require("hardhat");

describe("hardhat-predeploy on bourse node", function () {
  it("places the ERC-4337 entry points at their canonical addresses", async function () {
    for (const address of ["0x0000000071727De22E5E9d8BAf0edAc6f37da032", "0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108"]) {
      expect((await ethers.provider.getCode(address)).length).to.be.greaterThan(2);
    }
    expect(await predeploy.entrypoint.v08.getAddress()).to.equal("0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108");
  });

  it("runs them: nonces and deposits", async function () {
    const [owner, other] = await ethers.getSigners();
    const entrypoint = predeploy.entrypoint.v08;
    expect(await entrypoint.getNonce(other.address, 7n)).to.equal(7n << 64n);
    const before = await entrypoint.balanceOf(other.address);
    await expect(entrypoint.connect(owner).depositTo(other.address, { value: 1000n }))
      .to.emit(entrypoint, "Deposited").withArgs(other.address, before + 1000n);
    expect(await entrypoint.balanceOf(other.address)).to.equal(before + 1000n);
  });
});
