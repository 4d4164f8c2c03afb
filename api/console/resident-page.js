// What the residents' pages (the QR code's form, the follow page) share: languages, the API, the page's texts.
// These pages stand outside the console's shell: no sign-in needed, one column for a phone.

import { makeApi } from "./lib/api.js";
import { currentLanguage, LANGUAGES, loadNamespace, startI18n, switchLanguage, t } from "./lib/i18n.js";

export const api = makeApi(() => {}); // a 401 here only means "not signed in": the pages work without it
export const rt = (key, vars) => t(`resident:${key}`, vars);

/** Start i18next with the "resident" catalog, fill the language chooser, translate the static texts;
 * `onLanguage()` redraws what the page drew itself. */
export async function startPage(titleKey, onLanguage = () => {}) {
  await startI18n();
  await loadNamespace("resident");
  const chooser = document.getElementById("language");
  chooser.replaceChildren(...LANGUAGES.map(([code, name]) => new Option(name, code, false, code === currentLanguage())));
  chooser.setAttribute("aria-label", rt("language"));
  chooser.addEventListener("change", async () => {
    await switchLanguage(chooser.value);
    await loadNamespace("resident");
    translate(titleKey);
    onLanguage();
  });
  translate(titleKey);
}

/** Every element with data-i18n="key" gets the text of resident:key. */
export function translate(titleKey) {
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = rt(node.dataset.i18n);
  document.title = rt(titleKey);
}

/** A time in the resident's own language and zone (they stand in the building, so their zone is its zone). */
export function formatWhen(iso) {
  return new Intl.DateTimeFormat(currentLanguage(), { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}

/** A failed call in words: the problem's field errors, else its detail. */
export function explain(error) {
  const fields = typeof error.fieldErrors === "function" ? Object.entries(error.fieldErrors()) : [];
  if (fields.length) return fields.map(([name, message]) => `${name}: ${message}`).join("; ");
  return error.message || rt("error.generic");
}
