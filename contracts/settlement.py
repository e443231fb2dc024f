"""The settlement vault's EIP-712 order type: build, hash and sign orders exactly as the contract checks them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from eth_account.messages import encode_typed_data
from eth_utils import to_checksum_address
from .secp import keccak, sign_recoverable  # noqa: F401 - this module's names too (the vault's hash and signature)


PRICE_SCALE = 10**18
DOMAIN_NAME = "Bourse Settlement"
DOMAIN_VERSION = "1"
ORDER_FIELDS = [
    {"name": "maker", "type": "address"},
    {"name": "baseToken", "type": "address"},
    {"name": "quoteToken", "type": "address"},
    {"name": "isBuy", "type": "bool"},
    {"name": "baseAmount", "type": "uint256"},
    {"name": "price", "type": "uint256"},
    {"name": "expiry", "type": "uint256"},
    {"name": "nonce", "type": "uint256"},
    {"name": "maxFeeBps", "type": "uint256"},
    {"name": "maxPlatformFeeRate", "type": "uint256"},
]
SKIP_REASONS = {1: "cancelled", 2: "expired", 3: "seller balance", 4: "buyer balance", 5: "agent no longer approved"}
AGENT_FIELDS = [{"name": "maker", "type": "address"}, {"name": "agent", "type": "address"},
                {"name": "expiry", "type": "uint256"}, {"name": "nonce", "type": "uint256"}]


@dataclass(frozen=True)
class Order:
    """An order as signed: integers in token base units; price is quote units per base unit x PRICE_SCALE."""

    maker: str
    baseToken: str  # noqa: N815 - the field names are the EIP-712 type's
    quoteToken: str  # noqa: N815
    isBuy: bool  # noqa: N815
    baseAmount: int  # noqa: N815
    price: int
    expiry: int
    nonce: int
    maxFeeBps: int  # noqa: N815
    maxPlatformFeeRate: int = 0  # noqa: N815 - platform-token units per unit received (x PRICE_SCALE); 0: never

    def as_tuple(self) -> tuple[Any, ...]:
        return (self.maker, self.baseToken, self.quoteToken, self.isBuy, self.baseAmount, self.price, self.expiry,
                self.nonce, self.maxFeeBps, self.maxPlatformFeeRate)


def _vault_typed(primary: str, fields: list[dict[str, str]], message: dict[str, Any], chain_id: int,
                 vault: str) -> dict[str, Any]:
    """An EIP-712 message in the settlement vault's domain."""
    return {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                             {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
            primary: fields,
        },
        "primaryType": primary,
        "domain": {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": chain_id, "verifyingContract": vault},
        "message": message,
    }


def typed_data(order: Order, chain_id: int, vault: str) -> dict[str, Any]:
    return _vault_typed("Order", ORDER_FIELDS, asdict(order), chain_id, vault)


def sign_order(order: Order, private_key: bytes, chain_id: int, vault: str) -> tuple[int, bytes, bytes]:
    """(v, r, s) of the maker's EIP-712 signature (RFC 6979, low s: the same bytes eth_account produces)."""
    raw = sign_recoverable(private_key, order_hash(order, chain_id, vault))
    return raw[64] + 27, raw[:32], raw[32:64]




_ORDER_TYPEHASH = keccak(("Order(" + ",".join(f"{f['type']} {f['name']}" for f in ORDER_FIELDS) + ")").encode())
_DOMAIN_TYPEHASH = keccak(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")


@lru_cache(maxsize=64)
def domain_separator(chain_id: int, vault: str) -> bytes:
    return keccak(_DOMAIN_TYPEHASH + keccak(DOMAIN_NAME.encode()) + keccak(DOMAIN_VERSION.encode()) +
                  chain_id.to_bytes(32, "big") + _address_word(vault))


def order_hash(order: Order, chain_id: int, vault: str) -> bytes:
    """The EIP-712 digest the vault checks (hashStruct by hand: what encode_typed_data computes, without its
    generic type machinery; tests/contracts/test_order_hash.py holds the two equal)."""
    try:
        struct = keccak(_ORDER_TYPEHASH + _address_word(order.maker) + _address_word(order.baseToken) +
                        _address_word(order.quoteToken) + (b"\0" * 31 + (b"\1" if order.isBuy else b"\0")) +
                        order.baseAmount.to_bytes(32, "big") + order.price.to_bytes(32, "big") +
                        order.expiry.to_bytes(32, "big") + order.nonce.to_bytes(32, "big") +
                        order.maxFeeBps.to_bytes(32, "big") + order.maxPlatformFeeRate.to_bytes(32, "big"))
    except (OverflowError, AttributeError, TypeError) as exc:
        raise ValueError(f"not an order the vault can check: {exc}") from None
    return keccak(b"\x19\x01" + domain_separator(chain_id, vault) + struct)


def _address_word(address: str) -> bytes:
    if not isinstance(address, str):
        raise ValueError(f"not an address: {address!r}")
    return _text_address_word(address)


@lru_cache(maxsize=4096)  # the same few makers and tokens, three times an order
def _text_address_word(address: str) -> bytes:
    raw = bytes.fromhex(address[2:]) if address.startswith("0x") else b""
    if len(raw) != 20:
        raise ValueError(f"not an address: {address!r}")
    return b"\0" * 12 + raw


def agent_approval(maker: str, agent: str, expiry: int, nonce: int, chain_id: int, vault: str) -> dict[str, Any]:
    """The EIP-712 AgentApproval a maker signs to let `agent` sign its orders until `expiry` (approveAgentBySig)."""
    return _vault_typed("AgentApproval", AGENT_FIELDS, {"maker": maker, "agent": agent, "expiry": expiry,
                                                        "nonce": nonce}, chain_id, vault)


def typed_digest(typed: dict[str, Any]) -> bytes:
    signable = encode_typed_data(full_message=typed)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def fill_tuple(maker: Order, taker: Order, maker_sig: tuple[int, bytes, bytes], taker_sig: tuple[int, bytes, bytes],
               base_amount: int, maker_fee: int = 0, taker_fee: int = 0, maker_fee_in_platform_token: bool = False,
               taker_fee_in_platform_token: bool = False) -> tuple[Any, ...]:
    """A fill as the exchange knows it: both signed orders, the amount and the fees (a fee flagged as paid in the
    platform token is in its units). `settle_args` packs a batch of them for the vault."""
    return (maker.as_tuple(), taker.as_tuple(), *maker_sig, *taker_sig, base_amount, maker_fee, taker_fee,
            maker_fee_in_platform_token, taker_fee_in_platform_token)


MAX_FILLS = 100  # the vault's bound on one batch
BATCH_FORMAT = 2  # the vault's BATCH_FORMAT(): the layout settle_args packs
SIGNED_ORDER_TUPLE = "(uint256,uint256,uint256,uint256,bytes32,bytes32)"
PACKED_FILL_TUPLE = "(uint256,uint256,uint256)"
SETTLE_SIGNATURE = (f"settle(uint256,address[],address[],uint256[],uint256[],{SIGNED_ORDER_TUPLE}[],"
                    f"{PACKED_FILL_TUPLE}[])")
# Fields the vault packs into part of a word (settle() takes an order in six words): a signed order above a bound
# cannot be settled, so the exchange refuses it when it is placed.
ORDER_FIELD_LIMITS = {"baseAmount": 2**128, "maxPlatformFeeRate": 2**128, "maxFeeBps": 2**16, "expiry": 2**48,
                      "nonce": 2**240}
_UINT256 = 2**256
_BALANCE_INDEX_BITS = 10
NONCE_WORD_SHIFT = 6  # a word of the vault's nonceState holds 64 consecutive nonces (4 bits each)


def unsettleable_field(order: Order) -> str | None:
    """The first field of `order` above what the vault's batch format holds (ORDER_FIELD_LIMITS), or None."""
    for field, limit in ORDER_FIELD_LIMITS.items():  # on intake's path: no dict built
        if getattr(order, field) >= limit:
            return field
    return None


def _field_beyond_limits(fields: dict[str, Any]) -> str | None:
    return next((field for field, limit in ORDER_FIELD_LIMITS.items() if fields[field] >= limit), None)


SettleArgs = tuple[int, list[str], list[str], list[int], list[int], list[tuple[Any, ...]],
                   list[tuple[int, int, int]]]


def settle_args(batch_id: int, fills: list[tuple[Any, ...]], platform_token: str | None = None) -> SettleArgs:
    """The vault's settle() arguments for `fills` (as `fill_tuple` makes them): each token, each maker, each signed
    order, each (account, token) balance the fills move and each word of nonce states the orders mark is listed
    once, and the fills (or orders) name them by index. Tokens, accounts, balances and nonce words are sorted (the
    vault checks that none repeats). `platform_token` (the vault's) is needed only when a fill's fee is paid in
    it. ValueError for what the vault could not be given."""
    checked = [_checked_fill(fill) for fill in fills]
    token_set = {order[i] for fill in checked for order in fill[:2] for i in (1, 2)}
    platform = None if platform_token is None else _address_key(platform_token)
    if any(fill[11] and fill[9] or fill[12] and fill[10] for fill in checked):
        if platform is None:
            raise ValueError("a fee is paid in the platform token: settle_args needs the vault's platform token")
        token_set.add(platform)
    tokens = _sorted_list(token_set, 256, "tokens")
    accounts = _sorted_list({order[0] for fill in checked for order in fill[:2]}, 2**16, "accounts")
    token_index = {token: index for index, token in enumerate(tokens)}
    account_index = {account: index for index, account in enumerate(accounts)}
    in_platform = token_index.get(platform, 0) << 16  # type: ignore[arg-type]
    keys: list[list[int]] = []
    for maker, taker, *_, maker_fee, taker_fee, maker_in_platform, taker_in_platform in checked:
        buyer, seller = (maker, taker) if maker[3] else (taker, maker)
        base, quote = token_index[maker[1]] << 16, token_index[maker[2]] << 16
        buyer_at, seller_at = account_index[buyer[0]], account_index[seller[0]]
        seller_pays = taker_in_platform and taker_fee if maker[3] else maker_in_platform and maker_fee
        buyer_pays = maker_in_platform and maker_fee if maker[3] else taker_in_platform and taker_fee
        keys.append([seller_at | base, seller_at | quote, buyer_at | base, buyer_at | quote,
                     seller_at | in_platform if seller_pays else -1, buyer_at | in_platform if buyer_pays else -1])
    balances = sorted({key for fill_keys in keys for key in fill_keys if key >= 0})
    if len(balances) > 2**_BALANCE_INDEX_BITS:
        raise ValueError(f"more than {2**_BALANCE_INDEX_BITS} balances in one batch")
    balance_index = {key: index for index, key in enumerate(balances)}
    nonce_words = sorted({(order[7] >> NONCE_WORD_SHIFT) << 16 | account_index[order[0]] for fill in checked
                          for order in fill[:2]})
    nonce_word_index = {key: index for index, key in enumerate(nonce_words)}
    orders: dict[tuple[Any, ...], int] = {}
    packed: list[tuple[int, int, int]] = []
    indexes = account_index, token_index, nonce_word_index
    for fill, fill_keys in zip(checked, keys, strict=True):
        head = _order_index(orders, indexes, fill[0], fill[2:5]) | \
            _order_index(orders, indexes, fill[1], fill[5:8]) << 16 | fill[11] << 32 | fill[12] << 33
        for slot, key in enumerate(fill_keys):
            head |= balance_index.get(key, 0) << (40 + _BALANCE_INDEX_BITS * slot)
        packed.append((head | fill[8] << 128, fill[9], fill[10]))
    return (_uint(batch_id), [to_checksum_address(token) for token in tokens],
            [to_checksum_address(account) for account in accounts], balances, nonce_words, list(orders), packed)


def _sorted_list(addresses: set[str], most: int, what: str) -> list[str]:
    if len(addresses) > most:
        raise ValueError(f"more than {most} {what} in one batch")
    return sorted(addresses, key=lambda address: int(address, 16))


def _checked_fill(fill: Any) -> tuple[Any, ...]:
    """`fill` with its orders' addresses as lower-case keys and every field checked against the vault's format."""
    if not isinstance(fill, (tuple, list)) or len(fill) != 13:
        raise ValueError("a fill has 13 fields")
    orders = [_checked_order(order) for order in fill[:2]]  # two pairs: the vault reverts ("pair mismatch")
    for v in (fill[2], fill[5]):
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < 256:
            raise ValueError(f"not a uint8: {v!r}")
    base_amount = _uint(fill[8])
    if base_amount >= 2**128:
        raise ValueError(f"a fill's base amount is not below 2**128: {base_amount}")
    return (*orders, fill[2], _bytes32(fill[3]), _bytes32(fill[4]), fill[5], _bytes32(fill[6]), _bytes32(fill[7]),
            base_amount, _uint(fill[9]), _uint(fill[10]), _bool(fill[11]), _bool(fill[12]))


def _checked_order(order: Any) -> tuple[Any, ...]:
    if not isinstance(order, (tuple, list)) or len(order) != 10:
        raise ValueError("an order has 10 fields")
    values = [_uint(value) for value in order[4:]]
    fields = dict(zip((f["name"] for f in ORDER_FIELDS[4:]), values, strict=True))
    beyond = _field_beyond_limits(fields)
    if beyond is not None:
        raise ValueError(f"an order's {beyond} is beyond what the vault settles: {fields[beyond]}")
    return (_address_key(order[0]), _address_key(order[1]), _address_key(order[2]), _bool(order[3]), *values)


def _order_index(orders: dict[tuple[Any, ...], int], indexes: tuple[dict[Any, int], ...], order: tuple[Any, ...],
                 signature: tuple[Any, ...]) -> int:
    account_index, token_index, nonce_word_index = indexes
    maker, base, quote, is_buy, base_amount, price, expiry, nonce, max_fee_bps, max_platform_fee_rate = order
    v, r, s = signature
    account = account_index[maker]
    entry = (account | is_buy << 16 | v << 24 | token_index[base] << 32 | token_index[quote] << 40 |
             max_fee_bps << 48 | expiry << 64 | nonce_word_index[(nonce >> NONCE_WORD_SHIFT) << 16 | account] << 112,
             base_amount | max_platform_fee_rate << 128, price, nonce, r, s)
    if entry not in orders:
        if len(orders) == 2**16:
            raise ValueError("more than 65,536 orders in one batch")
        orders[entry] = len(orders)
    return orders[entry]


def _address_key(token: Any) -> str:
    return "0x" + _address_word(token)[12:].hex()


def _uint(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _UINT256:
        raise ValueError(f"not a uint256: {value!r}")
    return value


def _bool(value: Any) -> int:
    if not isinstance(value, bool):
        raise ValueError(f"not a bool: {value!r}")
    return int(value)


def _bytes32(value: Any) -> bytes:
    if not isinstance(value, (bytes, bytearray)) or len(value) > 32:
        raise ValueError(f"not bytes32: {value!r}")
    return bytes(value).ljust(32, b"\x00")
