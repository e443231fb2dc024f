// What a user signs, built exactly as the exchange checks it: the vault's EIP-712 Order, and the exchange's
// Cancel, Read and Withdraw messages (see matcher/exchange/signed.py and contracts/settlement.py).

const DOMAIN_FIELDS = [{ name: "name", type: "string" }, { name: "version", type: "string" },
  { name: "chainId", type: "uint256" }, { name: "verifyingContract", type: "address" }];
const ORDER_FIELDS = [{ name: "maker", type: "address" }, { name: "baseToken", type: "address" },
  { name: "quoteToken", type: "address" }, { name: "isBuy", type: "bool" }, { name: "baseAmount", type: "uint256" },
  { name: "price", type: "uint256" }, { name: "expiry", type: "uint256" }, { name: "nonce", type: "uint256" },
  { name: "maxFeeBps", type: "uint256" }, { name: "maxPlatformFeeRate", type: "uint256" }];
const MESSAGES = {
  Cancel: [{ name: "maker", type: "address" }, { name: "symbol", type: "string" }, { name: "orderId", type: "uint256" },
    { name: "clientOrderId", type: "string" }, { name: "timestamp", type: "uint256" }],
  Withdraw: [{ name: "user", type: "address" }, { name: "token", type: "address" }, { name: "amount", type: "uint256" },
    { name: "nonce", type: "uint256" }],
  Read: [{ name: "account", type: "address" }, { name: "method", type: "string" }, { name: "path", type: "string" },
    { name: "timestamp", type: "uint256" }],
};

export function orderTyped(order, chainId, vault) {
  return { types: { EIP712Domain: DOMAIN_FIELDS, Order: ORDER_FIELDS }, primaryType: "Order",
    domain: { name: "Bourse Settlement", version: "1", chainId, verifyingContract: vault }, message: order };
}

export function exchangeTyped(kind, message, chainId, vault) {
  return { types: { EIP712Domain: DOMAIN_FIELDS, [kind]: MESSAGES[kind] }, primaryType: kind,
    domain: { name: "Bourse Exchange", version: "1", chainId, verifyingContract: vault }, message };
}

let counter = 0n;

// A fresh order or withdrawal nonce: the time in microseconds plus a counter (the vault refuses a reused one).
export function freshNonce() {
  counter += 1n;
  return BigInt(Date.now()) * 1000n + (counter % 1000n);
}
