// A <dl> of labelled fields: [[messageKey, value node or text], ...].
import { h, label } from "./common/dom.js";

export function fields(rows) {
  const list = h("dl", { class: "fields" });
  for (const [key, value] of rows) {
    if (value === undefined) continue;
    list.append(h("dt", {}, label(key)), h("dd", {}, value));
  }
  return list;
}
