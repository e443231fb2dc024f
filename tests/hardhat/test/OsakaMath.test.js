// Osaka on bourse node: the CLZ opcode (EIP-7939) and OpenZeppelin Contracts 5.6's Math, compiled for Osaka.
const { ethers } = require("hardhat");
const { expect } = require("chai");

describe("Osaka Math", function () {
  before(async function () {
    this.math = await ethers.deployContract("OsakaMath");
  });

  it("runs the CLZ opcode", async function () {
    const cases = [[0n, 256n], [1n, 255n], [2n ** 255n, 0n], [2n ** 256n - 1n, 0n], [2n ** 200n + 5n, 55n]];
    for (const [x, zeros] of cases) {
      expect(await this.math.clzOpcode(x)).to.equal(zeros);
      expect(await this.math.clz(x)).to.equal(zeros);
    }
  });

  it("computes log2, sqrt and mulDiv as OpenZeppelin 5.6 defines them", async function () {
    expect(await this.math.log2(1n)).to.equal(0n);
    expect(await this.math.log2(2n ** 255n + 1n)).to.equal(255n);
    expect(await this.math.sqrt(10n ** 36n + 7n)).to.equal(10n ** 18n);
    expect(await this.math.mulDiv(2n ** 255n, 6n, 4n)).to.equal(3n * 2n ** 254n); // a 512-bit product
  }).timeout(120000);

  it("reverts mulDiv on overflow with OpenZeppelin's panic", async function () {
    await expect(this.math.mulDiv(2n ** 255n, 4n, 1n)).to.be.revertedWithPanic(0x11);
  });
});
