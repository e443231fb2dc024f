"""Turning blocks, transactions, receipts and logs into JSON-RPC objects."""

from __future__ import annotations

from typing import Any

from ..blocks import Header, Log, Receipt
from ..transactions import ACCESS_LIST, BLOB, SET_CODE, Builder


def hx(value: int) -> str:
    return hex(value)


def hb(value: bytes) -> str:
    return "0x" + value.hex()


def addr(value: bytes) -> str:
    return "0x" + value.hex()


def block_json(header: Header, block_hash: bytes, transactions: list[Any], size: int) -> dict[str, Any]:
    out = {
        "hash": hb(block_hash),
        "parentHash": hb(header.parent_hash),
        "sha3Uncles": "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347",
        "miner": addr(header.coinbase),
        "stateRoot": hb(header.state_root),
        "transactionsRoot": hb(header.transactions_root),
        "receiptsRoot": hb(header.receipts_root),
        "logsBloom": hb(header.bloom),
        "difficulty": "0x0",
        "totalDifficulty": "0x0",
        "number": hx(header.number),
        "gasLimit": hx(header.gas_limit),
        "gasUsed": hx(header.gas_used),
        "timestamp": hx(header.timestamp),
        "extraData": hb(header.extra_data),
        "mixHash": hb(header.mix_hash),
        "nonce": "0x0000000000000000",
        "baseFeePerGas": hx(header.base_fee),
        "withdrawalsRoot": hb(header.withdrawals_root),
        "withdrawals": [],
        "size": hx(size),
        "uncles": [],
        "transactions": transactions,
    }
    if header.fork_level >= 1:
        out["blobGasUsed"] = hx(header.blob_gas_used)
        out["excessBlobGas"] = hx(header.excess_blob_gas)
        out["parentBeaconBlockRoot"] = hb(header.parent_beacon_root)
    if header.fork_level >= 2:
        out["requestsHash"] = hb(header.requests_hash)
    return out


def tx_json(raw: bytes, tx_hash: bytes, sender: bytes, block: tuple[bytes, int, int, int] | None,
            base_fee: int | None) -> dict[str, Any]:
    """A transaction object; `block` is (block hash, number, index, timestamp) once mined."""
    tx = Builder.decode(raw)
    type_id = tx.type_id or 0
    out: dict[str, Any] = {
        "hash": hb(tx_hash),
        "type": hx(type_id),
        "nonce": hx(tx.nonce),
        "from": addr(sender),
        "to": addr(tx.to) if tx.to else None,
        "value": hx(tx.value),
        "gas": hx(tx.gas),
        "input": hb(tx.data),
        "blockHash": hb(block[0]) if block else None,
        "blockNumber": hx(block[1]) if block else None,
        "transactionIndex": hx(block[2]) if block else None,
        "blockTimestamp": hx(block[3]) if block else None,
        "r": hx(tx.r),
        "s": hx(tx.s),
    }
    if type_id == 0:
        out["gasPrice"] = hx(tx.gas_price)
        out["v"] = hx(tx.v)
        chain_id = tx.chain_id if hasattr(tx, "chain_id") else None
        if chain_id is not None:
            out["chainId"] = hx(chain_id)
    else:
        out["chainId"] = hx(tx.chain_id)
        out["v"] = hx(tx.y_parity)
        out["yParity"] = hx(tx.y_parity)
        out["accessList"] = [
            {"address": addr(a), "storageKeys": ["0x" + s.to_bytes(32, "big").hex() for s in slots]}
            for a, slots in tx.access_list
        ]
        if type_id == ACCESS_LIST:
            out["gasPrice"] = hx(tx.gas_price)
        else:
            out["maxFeePerGas"] = hx(tx.max_fee_per_gas)
            out["maxPriorityFeePerGas"] = hx(tx.max_priority_fee_per_gas)
            fee = tx.max_fee_per_gas if base_fee is None else min(
                tx.max_fee_per_gas, base_fee + tx.max_priority_fee_per_gas)
            out["gasPrice"] = hx(fee)
        if type_id == BLOB:
            out["maxFeePerBlobGas"] = hx(tx.max_fee_per_blob_gas)
            out["blobVersionedHashes"] = [hb(h) for h in tx.blob_versioned_hashes]
        if type_id == SET_CODE:
            out["authorizationList"] = [
                {"chainId": hx(a.chain_id), "address": addr(a.address), "nonce": hx(a.nonce),
                 "yParity": hx(a.y_parity), "r": hx(a.r), "s": hx(a.s)}
                for a in tx.authorization_list
            ]
    return out


def log_json(log: Log, block_hash: bytes, number: int, tx_hash: bytes, tx_index: int, log_index: int,
             removed: bool = False) -> dict[str, Any]:
    return {
        "address": addr(log.address),
        "topics": [hb(t) for t in log.topics],
        "data": hb(log.data),
        "blockHash": hb(block_hash),
        "blockNumber": hx(number),
        "transactionHash": hb(tx_hash),
        "transactionIndex": hx(tx_index),
        "logIndex": hx(log_index),
        "removed": removed,
    }


def receipt_json(receipt: Receipt, tx_hash: bytes, sender: bytes, to: bytes | None, contract: bytes | None,
                 block_hash: bytes, number: int, index: int, gas_used: int, gas_price: int,
                 first_log: int) -> dict[str, Any]:
    return {
        "transactionHash": hb(tx_hash),
        "transactionIndex": hx(index),
        "blockHash": hb(block_hash),
        "blockNumber": hx(number),
        "from": addr(sender),
        "to": addr(to) if to else None,
        "cumulativeGasUsed": hx(receipt.cumulative_gas),
        "gasUsed": hx(gas_used),
        "effectiveGasPrice": hx(gas_price),
        "contractAddress": addr(contract) if contract else None,
        "logs": [log_json(log, block_hash, number, tx_hash, index, first_log + i) for i, log in enumerate(receipt.logs)],
        "logsBloom": hb(receipt.bloom),
        "status": hx(receipt.status),
        "type": hx(receipt.tx_type),
    }
