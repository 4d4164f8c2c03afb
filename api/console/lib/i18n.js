// Languages: i18next with the catalogs under console/locales/<language>/<namespace>.json, fetched on demand.

import i18next from "../vendor/i18next/i18next.js";

export const LANGUAGES = [["en", "English"], ["zh-CN", "中文"]];
const STORED = "facmon.language";
const FALLBACK = "en";

/** The language to start in: the one chosen before, else the browser's first supported one, else English. */
export function preferredLanguage(stored = localStorage.getItem(STORED), browser = navigator.languages || []) {
  if (stored && LANGUAGES.some(([code]) => code === stored)) return stored;
  for (const tag of browser) {
    const lower = tag.toLowerCase();
    if (lower.startsWith("zh")) return "zh-CN";
    if (lower.startsWith("en")) return "en";
  }
  return FALLBACK;
}

// An i18next backend (its plugin interface) reading the JSON catalogs over HTTP.
const catalogs = {
  type: "backend",
  init() {},
  read(language, namespace, callback) {
    fetch(`console/locales/${language}/${namespace}.json`, { headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : Promise.reject(new Error(`${response.status}`))))
      .then((data) => callback(null, data), (error) => callback(error, false));
  },
};

export async function startI18n(language = preferredLanguage()) {
  await i18next.use(catalogs).init({
    lng: language,
    fallbackLng: FALLBACK,
    supportedLngs: LANGUAGES.map(([code]) => code),
    load: "currentOnly",
    ns: ["common"],
    defaultNS: "common",
    fallbackNS: "common",
    interpolation: { escapeValue: false }, // the DOM helpers set text, never HTML
    returnNull: false,
  });
  document.documentElement.lang = i18next.language;
  return i18next;
}

export async function switchLanguage(language) {
  localStorage.setItem(STORED, language);
  await i18next.changeLanguage(language);
  document.documentElement.lang = language;
}

export const loadNamespace = (namespace) => i18next.loadNamespaces(namespace);
export const t = (key, vars) => i18next.t(key, vars);
export const currentLanguage = () => i18next.resolvedLanguage || i18next.language || FALLBACK;
