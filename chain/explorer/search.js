// Search: a block number, a block hash, a transaction hash or an address -> the route that shows it (or null).
export async function resolveSearch(rpc, text) {
  if (/^\d+$/.test(text)) return `#/block/${text}`;
  if (/^0x[0-9a-fA-F]{40}$/.test(text)) return `#/address/${text}`;
  if (/^0x[0-9a-fA-F]{64}$/.test(text)) {
    if (await rpc.call("eth_getTransactionByHash", [text])) return `#/tx/${text}`;
    if (await rpc.call("eth_getBlockByHash", [text, false])) return `#/block/${text}`;
  }
  return null;
}
