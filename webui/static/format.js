// Numbers, amounts and times formatted for the page's language. Amounts are integers (BigInt) in their smallest
// unit and are never turned into floats: the decimal point is placed by string arithmetic.
import { lang, t } from "./i18n.js";

export function toBigInt(value) {
  if (typeof value === "bigint") return value;
  if (value === null || value === undefined) return 0n;
  return BigInt(value);
}

// "1234500000000000000", 18 -> "1.2345"; grouped per locale; at most `maxFraction` decimals (cut, not rounded).
export function units(value, decimals = 18, maxFraction = 6) {
  let amount = toBigInt(value);
  const negative = amount < 0n;
  if (negative) amount = -amount;
  const scale = 10n ** BigInt(decimals);
  const whole = amount / scale;
  let fraction = (amount % scale).toString().padStart(decimals, "0").slice(0, maxFraction).replace(/0+$/, "");
  const grouped = new Intl.NumberFormat(lang()).format(whole);
  const point = new Intl.NumberFormat(lang()).formatToParts(1.5).find((p) => p.type === "decimal")?.value || ".";
  return (negative ? "-" : "") + grouped + (fraction ? point + fraction : "");
}

export function integer(value) {
  return new Intl.NumberFormat(lang()).format(toBigInt(value));
}

export function time(seconds) {
  return new Intl.DateTimeFormat(lang(), { dateStyle: "medium", timeStyle: "medium" })
    .format(new Date(Number(seconds) * 1000));
}

export function timeMs(ms) {
  return new Intl.DateTimeFormat(lang(), { timeStyle: "medium" }).format(new Date(Number(ms)));
}

export function ago(seconds) {
  const delta = Math.max(0, Math.round(Date.now() / 1000 - Number(seconds)));
  const rtf = new Intl.RelativeTimeFormat(lang(), { numeric: "auto" });
  if (delta < 60) return rtf.format(-delta, "second");
  if (delta < 3600) return rtf.format(-Math.floor(delta / 60), "minute");
  if (delta < 86400) return rtf.format(-Math.floor(delta / 3600), "hour");
  return rtf.format(-Math.floor(delta / 86400), "day");
}

export function short(hex, keep = 6) {
  if (!hex || hex.length <= keep * 2 + 2) return hex || "";
  return `${hex.slice(0, keep + 2)}…${hex.slice(-keep)}`;
}

export function gwei(wei) {
  return t("common.gwei", { value: units(wei, 9, 3) });
}
