// Hardhat against bourse node: tests in OpenZeppelin's style, compiled with solc-js from npm (hardhat cannot
// download compilers here). BOURSE_URL says where the node listens.
require("@nomicfoundation/hardhat-ethers");
require("@nomicfoundation/hardhat-chai-matchers");
const { subtask } = require("hardhat/config");
const { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } = require("hardhat/builtin-tasks/task-names");

const SOLC_VERSION = "0.8.28";

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args, hre, runSuper) => {
  if (args.solcVersion !== SOLC_VERSION) return runSuper();
  return { compilerPath: require.resolve("solc/soljson.js"), isSolcJs: true, version: SOLC_VERSION,
           longVersion: "0.8.28+commit.7893614a" };
});

module.exports = {
  solidity: { version: SOLC_VERSION, settings: { evmVersion: "cancun", optimizer: { enabled: true, runs: 200 } } },
  defaultNetwork: "bourse",
  networks: { bourse: { url: process.env.BOURSE_URL || "http://127.0.0.1:8545", timeout: 120000 } },
  mocha: { timeout: 120000 },
};
