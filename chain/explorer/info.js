// bourse_explorerInfo, asked once per page load (chain id, native coin symbol, platform contracts).
let cached = null;

export function explorerInfo(rpc) {
  if (!cached) cached = rpc.call("bourse_explorerInfo").catch((error) => { cached = null; throw error; });
  return cached;
}
