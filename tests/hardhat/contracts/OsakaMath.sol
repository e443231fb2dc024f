// SPDX-License-Identifier: MIT
// OpenZeppelin Contracts 5.6's Math compiled for Osaka, and the CLZ opcode itself (EIP-7939) from inline assembly.
pragma solidity ^0.8.31;

import {Math} from "@openzeppelin/contracts-5.6/utils/math/Math.sol";

contract OsakaMath {
    function clzOpcode(uint256 x) external pure returns (uint256 r) {
        assembly {
            r := clz(x)
        }
    }

    function clz(uint256 x) external pure returns (uint256) {
        return Math.clz(x);
    }

    function log2(uint256 x) external pure returns (uint256) {
        return Math.log2(x);
    }

    function sqrt(uint256 x) external pure returns (uint256) {
        return Math.sqrt(x);
    }

    function mulDiv(uint256 x, uint256 y, uint256 d) external pure returns (uint256) {
        return Math.mulDiv(x, y, d);
    }
}
