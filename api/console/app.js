// facmon console shell: sign-in, language, navigation by role, the live stream, and mounting the screens
// (screens/index.js lists them; each is a module with {id, path, roles, titleKey, namespace, render}).

import { ApiError, itemsOf, makeApi } from "./lib/api.js";
import { announce, el, replace, select } from "./lib/dom.js";
import { currentLanguage, LANGUAGES, loadNamespace, startI18n, switchLanguage, t } from "./lib/i18n.js";
import { LiveStream } from "./lib/live.js";
import { allowed, match } from "./lib/router.js";
import { renderSignIn } from "./lib/signin.js";
import { makeFormatTime } from "./lib/time.js";
import screens from "./screens/index.js";

const $ = (id) => document.getElementById(id);
const state = { me: null, sites: {}, cleanup: null, subscriptions: [], mounted: null, generation: 0 };
// A screen renders into its own host element: a render overtaken by another (a quick second click) writes
// into a detached host, and its cleanup and subscriptions are undone as soon as it returns.

const api = makeApi(() => showSignIn(t("signin.expired")));
const live = new LiveStream({
  onState: (linkState) => {
    const link = $("link");
    link.dataset.state = linkState;
    link.textContent = t(`live.${linkState}`);
  },
  onUnauthorized: () => showSignIn(t("signin.expired")),
  onReset: () => mount(), // the server could not replay the gap: the screen reloads its lists
});
const formatTime = makeFormatTime(state.sites, currentLanguage);

const loadedCss = new Map();
function css(path) {
  if (!loadedCss.has(path)) {
    loadedCss.set(path, new Promise((resolve, reject) => {
      const link = el("link", { rel: "stylesheet", href: `console/${path}` });
      link.addEventListener("load", resolve);
      link.addEventListener("error", reject);
      document.head.append(link);
    }));
  }
  return loadedCss.get(path);
}

function notify(text, kind = "info") {
  const box = $("notice");
  box.dataset.kind = kind;
  box.textContent = text;
  box.hidden = !text;
  if (text) announce(text);
}

/** A message for an error thrown by ctx.api (or anything else), in the console's language. */
function describe(error) {
  if (error instanceof ApiError) {
    if (error.status === 403) return t("errors.forbidden");
    if (error.status === 404) return t("errors.notFound");
    return error.problem.detail || error.problem.title || t("errors.unexpected", { status: error.status });
  }
  return t("errors.network");
}

function context(route, subscriptions) {
  return {
    api, t, locale: currentLanguage(), me: state.me, sites: state.sites, formatTime, css, notify, describe,
    can: (permission) => Boolean(state.me && (state.me.roles.includes("admin")
      || (state.me.permissions || []).includes(permission))),
    route, // {rest: [...path parts after the screen's path], query: {...}}
    navigate: (hash) => { location.hash = hash; },
    on: (prefix, handler) => {
      const unsubscribe = live.on(prefix, handler);
      subscriptions.push(unsubscribe);
      return unsubscribe;
    },
  };
}

function unmount() {
  state.subscriptions.splice(0).forEach((unsubscribe) => unsubscribe());
  const cleanup = state.cleanup;
  state.cleanup = null;
  if (typeof cleanup === "function") cleanup();
}

function visibleScreens() {
  return screens.filter((screen) => !screen.hidden && !screen.public && allowed(screen, state.me));
}

async function mount() {
  const generation = ++state.generation;
  unmount();
  notify("");
  const root = $("screen");
  const found = match(screens, location.hash);
  if (!found || !allowed(found.screen, state.me)) {
    if (!state.me) return showSignIn();
    const home = visibleScreens()[0];
    if (home && (!found || location.hash !== home.path)) {
      location.replace(home.path); // the hashchange mounts it
      return;
    }
    replace(root, el("p", { class: "empty" }, t(home ? "errors.forbidden" : "nav.nothing")));
    return;
  }
  const { screen } = found;
  if (screen.namespace) await loadNamespace(screen.namespace);
  if (generation !== state.generation) return;
  state.mounted = screen;
  document.title = `${t(screen.titleKey)} · facmon`;
  renderNav();
  const host = el("div", { class: "screen-host" });
  replace(root, host);
  root.dataset.screen = screen.id;
  const subscriptions = [];
  state.subscriptions = subscriptions;
  let cleanup = null;
  try {
    cleanup = await screen.render(host, context({ rest: found.rest, query: found.query }, subscriptions));
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) {
      console.error(error);
      replace(host, el("p", { class: "error", role: "alert" }, describe(error)));
    }
  }
  if (generation === state.generation) {
    state.cleanup = cleanup;
  } else { // overtaken while rendering
    subscriptions.splice(0).forEach((unsubscribe) => unsubscribe());
    if (typeof cleanup === "function") cleanup();
  }
}

function renderNav() {
  const list = visibleScreens().map((screen) => el("li", {},
    el("a", { href: screen.path, "aria-current": state.mounted === screen ? "page" : null }, t(screen.titleKey))));
  replace($("nav-list"), list);
}

function renderChrome() {
  $("brand-sub").textContent = t("app.subtitle");
  $("menu-toggle").setAttribute("aria-label", t("nav.menu"));
  $("signout").textContent = t("signout");
  $("signout").hidden = !state.me;
  $("who").textContent = state.me ? t("who", { name: state.me.name, roles: state.me.roles.map((r) => t(`roles.${r}`)).join(", ") }) : "";
  $("language-label").textContent = t("language");
  const link = $("link");
  link.textContent = t(`live.${link.dataset.state || "stopped"}`);
  link.hidden = !state.me;
  const languages = select("language", LANGUAGES, currentLanguage(), { id: "language" });
  languages.addEventListener("change", async () => {
    await switchLanguage(languages.value);
    if (state.me && state.me.via !== "local") { // remembered on the account too (exports, notices)
      api("auth/me", { method: "PATCH", body: { locale: languages.value } }).catch(() => {});
    }
    renderChrome();
    if (state.me) mount(); else showSignIn();
  });
  $("language").replaceWith(languages);
  renderNav();
}

async function loadSites() {
  let sites = [];
  try {
    sites = itemsOf(await api("sites"));
  } catch (error) { // older servers: no /sites; derive the ids from the assets, zones unknown (UTC)
    if (error instanceof ApiError && error.status === 401) throw error;
    const assets = itemsOf(await api("assets", { query: { limit: 500 } }).catch(() => []));
    sites = [...new Set(assets.map((asset) => asset.site_id))].map((id) => ({ id, name: id, time_zone: null }));
  }
  for (const key of Object.keys(state.sites)) delete state.sites[key];
  for (const site of sites) state.sites[site.id] = { name: site.name || site.id, time_zone: site.time_zone || null };
}

async function whoAmI() {
  try {
    return await fetch("api/v1/auth/me", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(async (response) => {
        if (response.status === 401) return null;
        if (response.status === 404) return LOCAL_ADMIN; // a server without sign-in (loopback, no auth)
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return response.json();
      });
  } catch {
    return undefined; // the server cannot be reached
  }
}

const LOCAL_ADMIN = { id: "local", name: "local", roles: ["admin"], permissions: [], sites: [], via: "local" };

async function signedIn(me) {
  state.me = me;
  if (me.locale && !localStorage.getItem("facmon.language") && me.locale !== currentLanguage()) {
    await switchLanguage(me.locale);
  }
  try {
    await loadSites();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
  }
  await loadNamespace([...new Set(visibleScreens().map((s) => s.namespace).filter(Boolean))]); // nav titles
  renderChrome();
  live.start();
  await mount();
}

async function showSignIn(reason = null) {
  unmount();
  live.stop();
  state.me = null;
  state.mounted = null;
  renderChrome();
  document.title = `${t("signin.title")} · facmon`;
  await renderSignIn($("screen"), { t, reason, onSignedIn: signedIn });
}

async function signOut() {
  try {
    await api("auth/logout", { method: "POST" });
  } catch { /* already signed out */ }
  showSignIn(t("signin.signedOut"));
}

async function boot() {
  await startI18n();
  $("signout").addEventListener("click", signOut);
  document.querySelector(".skip").addEventListener("click", (event) => { // not a route: focus the content
    event.preventDefault();
    $("screen").focus();
  });
  $("menu-toggle").addEventListener("click", () => {
    const nav = $("nav");
    const open = nav.dataset.open !== "true";
    nav.dataset.open = String(open);
    $("menu-toggle").setAttribute("aria-expanded", String(open));
  });
  $("nav").addEventListener("click", (event) => {
    if (event.target.closest("a")) $("nav").dataset.open = "false";
  });
  window.addEventListener("hashchange", () => { if (state.me || publicRoute()) mount(); });
  const found = publicRoute();
  const me = await whoAmI();
  if (me === undefined) {
    renderChrome();
    replace($("screen"), el("p", { class: "error", role: "alert" }, t("errors.network")));
  } else if (me) {
    await signedIn(me);
  } else if (found) {
    renderChrome();
    await mount();
  } else {
    await showSignIn();
  }
}

function publicRoute() {
  const found = match(screens, location.hash);
  return found && found.screen.public ? found : null;
}

boot();
