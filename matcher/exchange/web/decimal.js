// Exact decimal text <-> integer units (BigInt). Money never becomes a float here.

export function parseUnits(text, decimals) {
  const match = /^(\d*)(?:\.(\d*))?$/.exec(String(text).trim());
  if (!match || (!match[1] && !match[2])) return null;
  const fraction = match[2] || "";
  if (fraction.length > decimals && /[1-9]/.test(fraction.slice(decimals))) return null;  // more precision than exists
  return BigInt(match[1] || "0") * 10n ** BigInt(decimals) + BigInt(fraction.slice(0, decimals).padEnd(decimals, "0") || "0");
}

export function formatUnits(units, decimals) {
  const value = BigInt(units);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const scale = 10n ** BigInt(decimals);
  const fraction = (abs % scale).toString().padStart(decimals, "0").replace(/0+$/, "");
  return (negative ? "-" : "") + (abs / scale).toString() + (fraction ? "." + fraction : "");
}

// "0.00200000" -> "0.002"
export function trim(text) {
  const s = String(text);
  return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
}

// Exact products and differences of 8-decimal texts (as the API writes them), for display.
export function mul(a, b) {
  return trim(formatUnits((parseUnits(a, 8) * parseUnits(b, 8)) / 10n ** 8n, 8));
}

export function sub(a, b) {
  return trim(formatUnits(parseUnits(a, 8) - parseUnits(b, 8), 8));
}
