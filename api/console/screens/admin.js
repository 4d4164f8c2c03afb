// Admin: users (add, roles, disable, reset password), rules (reload), dead letters (list, reprocess), and the
// audit log (who changed what, before and after). Each part says so when the server does not offer it.

import { ApiError, itemsOf, pageOf } from "../lib/api.js";
import { el, field, replace, select } from "../lib/dom.js";
import { act } from "../lib/forms.js";

const ROLES = ["viewer", "operator", "dispatcher", "supervisor", "technician", "planner", "admin", "resident"];

async function part(ctx, slot, load) {
  try {
    await load();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) throw error;
    replace(slot, el("p", { class: "muted" }, error instanceof ApiError && error.status === 404
      ? ctx.t("admin:unavailable") : ctx.describe(error)));
  }
}

function roleBoxes(t, chosen = []) {
  return el("fieldset", { class: "roles" }, el("legend", {}, t("admin:user.roles")), ROLES.map((role) =>
    el("label", { class: "check" }, el("input", { type: "checkbox", name: "roles", value: role, checked: chosen.includes(role) }),
      t(`roles.${role}`))));
}

async function users(ctx, slot) {
  const t = ctx.t;
  const reload = () => users(ctx, slot);
  const list = pageOf(await ctx.api("users", { query: { limit: 500 } }));
  const form = el("form", { class: "toolbar", id: "user-add" },
    field(t("admin:user.id"), el("input", { name: "id", required: true, maxlength: "64" })),
    field(t("admin:user.name"), el("input", { name: "name", required: true, maxlength: "200" })),
    field(t("admin:user.password"), el("input", { name: "password", type: "password", minlength: "10", autocomplete: "new-password" })),
    roleBoxes(t), el("button", { type: "submit", class: "primary" }, t("admin:user.add")));
  form.addEventListener("submit", act(ctx, reload, () => {
    const data = new FormData(form);
    return ctx.api("users", { method: "POST", body: { id: data.get("id"), name: data.get("name"),
      password: data.get("password") || null, roles: data.getAll("roles") } });
  }, t("admin:done.added")));
  replace(slot, el("table", { class: "cards", id: "users" },
    el("thead", {}, el("tr", {}, ["id", "name", "roles", "state"].map((c) => el("th", { scope: "col" }, t(`admin:user.${c}`))),
      el("th", { scope: "col" }, el("span", { class: "visually-hidden" }, t("admin:actions"))))),
    el("tbody", {}, list.items.map((user) => el("tr", { dataset: { userId: user.id } },
      el("td", { "data-label": t("admin:user.id") }, user.id),
      el("td", { "data-label": t("admin:user.name") }, user.name),
      el("td", { "data-label": t("admin:user.roles") }, user.roles.map((r) => t(`roles.${r}`)).join(", ")),
      el("td", { "data-label": t("admin:user.state") }, t(user.active ? "admin:user.active" : "admin:user.disabled")),
      el("td", {}, el("div", { class: "actions" },
        el("button", { type: "button", onclick: act(ctx, reload, () => ctx.api(`users/${encodeURIComponent(user.id)}`,
          { method: "PATCH", body: { active: !user.active } }), t("admin:done.saved")) },
        t(user.active ? "admin:user.disable" : "admin:user.enable"), el("span", { class: "visually-hidden" }, ` ${user.id}`)),
        el("button", { type: "button", onclick: (event) => resetPassword(ctx, user, event) },
          t("admin:user.reset"), el("span", { class: "visually-hidden" }, ` ${user.id}`)))))))),
  el("h3", {}, t("admin:user.new")), form);
}

async function resetPassword(ctx, user, event) {
  const password = window.prompt(ctx.t("admin:user.newPassword", { id: user.id }));
  if (!password) return;
  await act(ctx, async () => {}, () => ctx.api(`users/${encodeURIComponent(user.id)}/password`,
    { method: "POST", body: { password } }), ctx.t("admin:done.password"))(event);
}

function rules(ctx, slot) {
  const t = ctx.t;
  const result = el("p", { role: "status", id: "rules-result" });
  const button = el("button", { type: "button", class: "primary", onclick: async () => {
    button.disabled = true;
    try {
      const r = await ctx.api("rules/reload", { method: "POST" });
      result.textContent = t("admin:rules.result", r);
    } catch (error) {
      result.textContent = ctx.describe(error);
    } finally {
      button.disabled = false;
    }
  } }, t("admin:rules.reload"));
  replace(slot, el("p", { class: "muted" }, t("admin:rules.intro")), button, result);
}

async function deadLetters(ctx, slot) {
  const t = ctx.t;
  const reload = () => deadLetters(ctx, slot);
  const letters = itemsOf(await ctx.api("deadletters", { query: { limit: 100 } }));
  const reasons = [...new Set(letters.map((l) => l.reason))];
  const reason = select("reason", [["", t("all")], ...reasons.map((r) => [r, r])], "");
  const form = el("form", { class: "toolbar" }, field(t("admin:letters.reason"), reason),
    el("button", { type: "submit" }, t("admin:letters.reprocess")));
  form.addEventListener("submit", act(ctx, reload, () => ctx.api("deadletters/reprocess",
    { method: "POST", body: { reason: reason.value || null, limit: 1000 } }), (r) => t("admin:letters.result", r)));
  replace(slot, letters.length ? [form, el("table", { class: "cards", id: "dead-letters" },
    el("thead", {}, el("tr", {}, ["received", "topic", "reason", "detail"].map((c) => el("th", { scope: "col" }, t(`admin:letters.${c}`))))),
    el("tbody", {}, letters.map((l) => el("tr", { dataset: { letterId: l.id } },
      el("td", { "data-label": t("admin:letters.received") }, ctx.formatTime(l.received_at)),
      el("td", { "data-label": t("admin:letters.topic") }, el("code", {}, l.topic)),
      el("td", { "data-label": t("admin:letters.reason") }, l.reason),
      el("td", { "data-label": t("admin:letters.detail") }, l.detail)))))] : el("p", { class: "empty" }, t("admin:letters.none")));
}

async function audit(ctx, slot, query = {}) {
  const t = ctx.t;
  const page = pageOf(await ctx.api("audit", { query: { limit: 50, ...query } }));
  const actor = el("input", { name: "actor", value: query.actor || "" });
  const action = el("input", { name: "action", value: query.action || "", placeholder: "alarm.acknowledge" });
  const form = el("form", { class: "toolbar", role: "search" }, field(t("admin:audit.actor"), actor),
    field(t("admin:audit.action"), action), el("button", { type: "submit" }, t("action.apply")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    part(ctx, slot, () => audit(ctx, slot, { actor: actor.value.trim() || null, action: action.value.trim() || null }));
  });
  const json = (value) => (value === null || value === undefined ? "" : JSON.stringify(value));
  replace(slot, form, el("p", { class: "muted" }, t("shown", { shown: page.items.length, total: page.total })),
    el("table", { class: "cards", id: "audit" },
      el("thead", {}, el("tr", {}, ["at", "actor", "action", "target", "before", "after"].map((c) => el("th", { scope: "col" }, t(`admin:audit.${c}`))))),
      el("tbody", {}, page.items.map((e) => el("tr", {},
        el("td", { "data-label": t("admin:audit.at") }, ctx.formatTime(e.at)),
        el("td", { "data-label": t("admin:audit.actor") }, e.actor),
        el("td", { "data-label": t("admin:audit.action") }, e.action),
        el("td", { "data-label": t("admin:audit.target") }, [e.target_type, e.target_id].filter(Boolean).join(" ")),
        el("td", { "data-label": t("admin:audit.before") }, el("code", {}, json(e.before))),
        el("td", { "data-label": t("admin:audit.after") }, el("code", {}, json(e.after))))))));
}

export default {
  id: "admin",
  path: "#/admin",
  roles: ["admin"],
  titleKey: "admin:title",
  namespace: "admin",
  async render(root, ctx) {
    const t = ctx.t;
    const slots = Object.fromEntries(["users", "rules", "letters", "audit"].map((name) => [name, el("div", { id: `admin-${name}` })]));
    replace(root, el("h1", {}, t("admin:title")), el("div", { class: "grid" },
      ...Object.entries(slots).map(([name, slot]) => el("section", { class: "card", "aria-labelledby": `admin-${name}-title` },
        el("h2", { id: `admin-${name}-title` }, t(`admin:${name}.title`)), slot))));
    rules(ctx, slots.rules);
    await Promise.all([part(ctx, slots.users, () => users(ctx, slots.users)),
      part(ctx, slots.letters, () => deadLetters(ctx, slots.letters)), part(ctx, slots.audit, () => audit(ctx, slots.audit))]);
  },
};
