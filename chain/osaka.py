"""Osaka (Fusaka's execution layer) on top of py-evm's Prague, which py-evm does not have yet.

What Osaka changes for execution, and where it is here:
- EIP-7939 CLZ (0x1e): count leading zeros, 5 gas.
- EIP-7951 P256VERIFY precompile at 0x100: secp256r1 signature check, 6,900 gas.
- EIP-7823 ModExp inputs bounded to 1,024 bytes each; EIP-7883 ModExp repriced.
- EIP-7825 a transaction's gas limit is capped at 2**24 (checked where transactions enter: `TX_GAS_LIMIT_CAP`).
- EIP-7934 an RLP-encoded block is at most 8 MiB (`MAX_BLOCK_RLP_SIZE`, the block builder's bound).
- EIP-7910 eth_config (chain.api.state_tools).
- EIP-7918 the blob base fee's reserve price, EIP-7594 cell proofs in blob sidecars and at most six blobs a
  transaction (chain.blobs).
"""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from eth.exceptions import VMError
from eth.precompiles.modexp import _modexp, extract_lengths
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.computation import PragueComputation
from eth.vm.forks.prague.opcodes import PRAGUE_OPCODES
from eth.vm.forks.prague.state import PragueState
from eth.vm.opcode import as_opcode

TX_GAS_LIMIT_CAP = 2**24  # EIP-7825
MAX_BLOCK_RLP_SIZE = 10 * 1024 * 1024 - 2 * 1024 * 1024  # EIP-7934: 10 MiB less a 2 MiB margin for the beacon block
P256VERIFY_ADDRESS = (0x100).to_bytes(20, "big")
P256VERIFY_GAS = 6_900
MODEXP_MAX_INPUT = 1_024  # EIP-7823, per length field

SECP256R1_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
SECP256R1_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF


def clz(computation: Any) -> None:
    """EIP-7939: the number of leading zero bits of the top word (256 for zero)."""
    value = computation.stack_pop1_int()
    computation.stack_push_int(256 - value.bit_length())


def p256_verify(data: bytes) -> bool:
    """EIP-7951's check of (hash, r, s, qx, qy): any malformed input is simply not a valid signature."""
    if len(data) != 160:
        return False
    digest = data[:32]
    r, s, qx, qy = (int.from_bytes(data[i:i + 32], "big") for i in range(32, 160, 32))
    if not (0 < r < SECP256R1_N and 0 < s < SECP256R1_N and qx < SECP256R1_P and qy < SECP256R1_P):
        return False
    if qx == 0 and qy == 0:  # the point at infinity is not a public key
        return False
    try:
        key = ec.EllipticCurvePublicNumbers(qx, qy, ec.SECP256R1()).public_key()  # checks the curve equation
        key.verify(encode_dss_signature(r, s), digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    except (ValueError, InvalidSignature):
        return False
    return True


def p256verify_precompile(computation: Any) -> Any:
    computation.consume_gas(P256VERIFY_GAS, reason="P256VERIFY precompile")
    computation.output = (1).to_bytes(32, "big") if p256_verify(computation.msg.data_as_bytes) else b""
    return computation


def modexp_gas_osaka(data: bytes) -> int:
    """EIP-7883's price: at least 500, no division by 3, 16 iterations per exponent byte past the 32nd."""
    base_length, exponent_length, modulus_length = extract_lengths(data)
    max_length = max(base_length, modulus_length)
    words = (max_length + 7) // 8
    complexity = 2 * words * words if max_length > 32 else 16
    start = 96 + base_length
    head = data[start:start + min(exponent_length, 32)]
    exponent_head = int.from_bytes(head.ljust(min(exponent_length, 32), b"\0"), "big")
    if exponent_length <= 32:
        iterations = max(exponent_head.bit_length() - 1, 0)
    else:
        iterations = 16 * (exponent_length - 32) + max(exponent_head.bit_length() - 1, 0)
    return max(500, complexity * max(iterations, 1))


def modexp_precompile_osaka(computation: Any) -> Any:
    data = computation.msg.data_as_bytes
    base_length, exponent_length, modulus_length = extract_lengths(data)
    if max(base_length, exponent_length, modulus_length) > MODEXP_MAX_INPUT:  # EIP-7823: fails, all gas gone
        raise VMError(f"MODEXP input longer than {MODEXP_MAX_INPUT} bytes (EIP-7823)")
    computation.consume_gas(modexp_gas_osaka(data), reason="MODEXP precompile")
    result = _modexp(data)
    computation.output = b"" if modulus_length == 0 else result.to_bytes(modulus_length, "big")
    return computation


OSAKA_OPCODES = {**PRAGUE_OPCODES, 0x1E: as_opcode(logic_fn=clz, mnemonic="CLZ", gas_cost=5)}
OSAKA_PRECOMPILES = {**PragueComputation.get_precompiles(), (5).to_bytes(20, "big"): modexp_precompile_osaka,
                     P256VERIFY_ADDRESS: p256verify_precompile}


class OsakaComputation(PragueComputation):
    opcodes = OSAKA_OPCODES
    _precompiles = OSAKA_PRECOMPILES


class OsakaState(PragueState):
    computation_class = OsakaComputation


class OsakaVM(PragueVM):
    fork = "osaka"
    _state_class = OsakaState
