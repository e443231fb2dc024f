// Verifying an inclusion proof of the exchange's proof of reserves, in the browser, exactly as `bourse por verify`
// does (wallet/por.py): a leaf commits to sha256(salt || account) and its sums; a parent to both children's hashes
// and both children's sum vectors; every leaf's path must end at the published root hash with the published
// totals, and the leaves must add up to the balances the proof states. SHA-256 is the browser's own (WebCrypto).

const MAX = (1n << 256n) - 1n;

// Why a proof fails, as a message key (por.reason.<reason>).
export class ProofError extends Error {
  constructor(reason) {
    super(reason);
    this.key = `por.reason.${reason}`;
  }
}

function hex(bytes) {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(text) {
  if (!/^([0-9a-f]{2})*$/i.test(text)) throw new ProofError("malformed");
  return new Uint8Array(text.match(/../g)?.map((b) => parseInt(b, 16)) || []);
}

function amount(value) {
  if (!/^\d+$/.test(String(value))) throw new ProofError("malformed");
  const n = BigInt(value);
  if (n > MAX) throw new ProofError("overflow");
  return n;
}

function sumsBytes(sums) {
  const out = new Uint8Array(32 * sums.length);
  sums.forEach((sum, i) => {
    const h = sum.toString(16).padStart(64, "0");
    out.set(fromHex(h), 32 * i);
  });
  return out;
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) { out.set(part, at); at += part.length; }
  return out;
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

async function leafHash(account, salt, sums) {
  const commitment = await sha256(concat(salt, new TextEncoder().encode(account)));
  return sha256(concat(new Uint8Array([0]), commitment, sumsBytes(sums)));
}

async function parent(left, right) {
  const sums = left.sums.map((s, i) => s + right.sums[i]);
  if (sums.some((s) => s > MAX)) throw new ProofError("overflow");
  const hash = await sha256(concat(new Uint8Array([1]), left.hash, sumsBytes(left.sums), right.hash,
    sumsBytes(right.sums)));
  return { hash, sums };
}

// The proof's balances by asset if it leads to `root`; throws an Error saying why not.
export async function verifyProof(proof, root) {
  if (!proof || !Array.isArray(proof.assets) || !Array.isArray(proof.balances)) throw new ProofError("malformed");
  const assets = proof.assets;
  if (JSON.stringify(assets) !== JSON.stringify(root.assets)) throw new ProofError("assets");
  const balances = proof.balances.map(amount);
  if (balances.length !== assets.length) throw new ProofError("balanceCount");
  const totals = assets.map((a) => amount(root.totals[a]));
  const leaves = proof.version === 2 ? proof.leaves
    : [{ salt: proof.salt, balances: proof.balances, path: proof.path }];
  if (!Array.isArray(leaves) || !leaves.length) throw new ProofError("noLeaves");
  const summed = assets.map(() => 0n);
  for (const leaf of leaves) {
    const part = leaf.balances.map(amount);
    if (part.length !== assets.length) throw new ProofError("leafCount");
    let node = { hash: await leafHash(String(proof.account), fromHex(leaf.salt), part), sums: part };
    for (const step of leaf.path) {
      const sibling = { hash: fromHex(step.hash), sums: step.sums.map(amount) };
      if (sibling.sums.length !== assets.length) throw new ProofError("siblingCount");
      node = step.side === "left" ? await parent(sibling, node) : await parent(node, sibling);
    }
    if (hex(node.hash) !== root.root) throw new ProofError("rootHash");
    if (node.sums.some((s, i) => s !== totals[i])) throw new ProofError("totals");
    part.forEach((p, i) => { summed[i] += p; });
  }
  if (summed.some((s, i) => s !== balances[i])) throw new ProofError("leafSum");
  return Object.fromEntries(assets.map((a, i) => [a, balances[i]]));
}
