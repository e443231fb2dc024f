// Message catalogues and locale formatting. Every visible string comes from messages/<lang>.json; the choice is
// remembered in localStorage. Elements carry their key: data-i18n (text), data-i18n-placeholder,
// data-i18n-title, data-i18n-aria-label; translate() fills them, and views call t() for what they build.

export const LANGUAGES = ["en", "zh-CN"];
const STORAGE_KEY = "bourse.lang";
const listeners = [];
let messages = {};
let current = "en";

function chosen() {
  const stored = localStorage.getItem(STORAGE_KEY);
  if (LANGUAGES.includes(stored)) return stored;
  return (navigator.language || "").toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}

async function load(lang, base) {
  const response = await fetch(`${base}messages/${lang}.json`);
  if (!response.ok) throw new Error(`no catalogue for ${lang}`);
  messages = await response.json();
  current = lang;
  document.documentElement.lang = lang;
}

let commonBase = "common/";

export async function initI18n(base = "common/") {
  commonBase = base;
  await load(chosen(), base);
  translate(document);
}

export function lang() {
  return current;
}

export async function setLanguage(lang) {
  if (!LANGUAGES.includes(lang)) return;
  localStorage.setItem(STORAGE_KEY, lang);
  await load(lang, commonBase);
  translate(document);
  for (const listener of listeners) listener(lang);
}

export function onLanguageChange(listener) {
  listeners.push(listener);
}

export function t(key, values = {}) {
  const text = messages[key];
  if (text === undefined) {
    console.error(`missing message ${key} (${current})`);
    return key;
  }
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in values ? String(values[name]) : `{${name}}`));
}

export function translate(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const [attr, name] of [["i18nPlaceholder", "placeholder"], ["i18nTitle", "title"],
                              ["i18nAriaLabel", "aria-label"]]) {
    const selector = `[data-${attr.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}]`;
    for (const el of root.querySelectorAll(selector)) el.setAttribute(name, t(el.dataset[attr]));
  }
  const title = root.querySelector && root.querySelector("title[data-i18n]");
  if (title) document.title = title.textContent;
}

// A <select> that switches the language, for every page's header.
export function languagePicker() {
  const select = document.createElement("select");
  select.className = "language";
  select.dataset.i18nAriaLabel = "common.language";
  select.setAttribute("aria-label", t("common.language"));
  for (const code of LANGUAGES) {
    const option = document.createElement("option");
    option.value = code;
    option.textContent = t(`common.language.${code}`);
    select.append(option);
  }
  select.value = current;
  select.addEventListener("change", () => setLanguage(select.value));
  onLanguageChange(() => {
    for (const option of select.options) option.textContent = t(`common.language.${option.value}`);
    select.value = current;
  });
  return select;
}
