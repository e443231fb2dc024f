// Hardhat against bourse node: tests in OpenZeppelin's style, compiled with solc-js from npm (hardhat cannot
// download compilers here). BOURSE_URL says where the node listens.
require("@nomicfoundation/hardhat-ethers");
require("@nomicfoundation/hardhat-chai-matchers");
require("hardhat-predeploy");
const { subtask } = require("hardhat/config");
const { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } = require("hardhat/builtin-tasks/task-names");

const SOLC_VERSION = "0.8.28";
const OSAKA_SOLC_VERSION = "0.8.31"; // the first solc with Osaka's CLZ
const SOLC_JS = {
  [SOLC_VERSION]: { module: "solc", longVersion: "0.8.28+commit.7893614a" },
  [OSAKA_SOLC_VERSION]: { module: "solc-0.8.31", longVersion: "0.8.31+commit.fd3a2265" },
};

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args, hre, runSuper) => {
  const build = SOLC_JS[args.solcVersion];
  if (build === undefined) return runSuper();
  return { compilerPath: require.resolve(`${build.module}/soljson.js`), isSolcJs: true, version: args.solcVersion,
           longVersion: build.longVersion };
});

module.exports = {
  solidity: {
    compilers: [{ version: SOLC_VERSION, settings: { evmVersion: "cancun", optimizer: { enabled: true, runs: 200 } } }],
    overrides: {
      "contracts/OsakaMath.sol": { version: OSAKA_SOLC_VERSION,
                                   settings: { evmVersion: "osaka", optimizer: { enabled: true, runs: 200 } } },
    },
  },
  defaultNetwork: "bourse",
  networks: { bourse: { url: process.env.BOURSE_URL || "http://127.0.0.1:8545", timeout: 120000 } },
  mocha: { timeout: 120000 },
};
