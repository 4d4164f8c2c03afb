// Technician, on a phone: my open orders as cards; accept, on site, start, complete with the completion form
// (failure code, cause, remedy, hours, a photo). The buttons come from the order's `allowed` steps.

import { itemsOf } from "../lib/api.js";
import { el, field, replace, select } from "../lib/dom.js";

const STEPS = ["accepted", "on_site", "in_progress", "completed"]; // the technician's own steps, in order
const OPEN_LIMIT = 200;

async function failureCodes(ctx, order) {
  const codes = itemsOf(await ctx.api(`workorders/${order.id}/failure-codes`)); // those of the order's asset kind
  return codes.map(({ code, label }) => [code, ctx.t(`technician:codes.${code}`, { defaultValue: label })]);
}

function completionForm(ctx, order, codes, onDone) {
  const t = ctx.t;
  const photo = el("input", { type: "file", name: "photo", accept: "image/*", capture: "environment" });
  const error = el("p", { class: "error", role: "alert" });
  const submit = el("button", { type: "submit", class: "primary" }, t("technician:complete.submit"));
  const form = el("form", { class: "completion", novalidate: true },
    el("h3", {}, t("technician:complete.title")),
    field(t("technician:complete.code"), select("failure_code", codes, "", { required: true })),
    field(t("technician:complete.cause"), el("textarea", { name: "cause", required: true, maxlength: 2000 })),
    field(t("technician:complete.remedy"), el("textarea", { name: "remedy", required: true, maxlength: 2000 })),
    field(t("technician:complete.hours"), el("input", { type: "number", name: "labour_hours", min: 0, max: 1000,
      step: 0.25, inputmode: "decimal", required: true })),
    field(t("technician:complete.photo"), photo, t("technician:complete.photo_hint")),
    submit, error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const hours = String(data.get("labour_hours") || "");
    const body = { to_status: "completed", expected_version: order.version, failure_code: data.get("failure_code"),
      cause: String(data.get("cause") || "").trim(), remedy: String(data.get("remedy") || "").trim(),
      labour_hours: hours === "" ? null : Number(hours) };
    if (!body.failure_code || !body.cause || !body.remedy || body.labour_hours === null) {
      error.textContent = t("technician:complete.missing");
      return;
    }
    submit.disabled = true;
    try {
      if (photo.files.length) {
        const upload = new FormData();
        upload.append("file", photo.files[0]);
        await ctx.api(`workorders/${order.id}/attachments`, { method: "POST", body: upload });
        // The photo is recorded in the order's history (a new version): complete the version it made,
        // unless someone else moved the order meanwhile.
        const fresh = await ctx.api(`workorders/${order.id}`);
        if (fresh.status === order.status && fresh.version === order.version + 1) body.expected_version = fresh.version;
      }
      await ctx.api(`workorders/${order.id}/transitions`, { method: "POST", body });
      ctx.notify(t("technician:complete.done", { id: order.id }));
      onDone();
    } catch (failure) {
      error.textContent = ctx.describe(failure);
      submit.disabled = false;
    }
  });
  return form;
}

function card(ctx, order, reload) {
  const t = ctx.t;
  const overdue = new Date(order.due_at) < new Date() && !order.completed_at;
  const place = [order.asset_id, ctx.sites[order.site_id]?.name || order.site_id, order.address].filter(Boolean);
  const slot = el("div", { class: "slot" });
  const steps = STEPS.filter((step) => order.allowed.includes(step));
  const buttons = steps.map((step) => el("button", {
    type: "button", class: step === steps[0] ? "primary" : "", "data-step": step,
    onclick: async (event) => {
      const button = event.currentTarget;
      button.disabled = true;
      if (step === "completed") {
        try {
          replace(slot, completionForm(ctx, order, await failureCodes(ctx, order), reload));
          slot.querySelector("select, textarea")?.focus();
        } catch (failure) {
          ctx.notify(ctx.describe(failure), "error");
          button.disabled = false;
        }
        return;
      }
      try {
        await ctx.api(`workorders/${order.id}/transitions`, { method: "POST",
          body: { to_status: step, expected_version: order.version } });
        reload();
      } catch (failure) {
        ctx.notify(ctx.describe(failure), "error");
        reload();
      }
    },
  }, t(`technician:step.${step}`)));
  return el("article", { class: `order-card priority-${order.priority}`, "data-order-id": order.id },
    el("header", {},
      el("span", { class: "order-number" }, `#${order.id}`),
      el("span", { class: "badge" }, t(`technician:priority.${order.priority}`)),
      el("span", { class: "badge status" }, t(`technician:status.${order.status}`))),
    el("h3", {}, order.title),
    el("p", { class: "place" }, place.join(" · ")),
    order.description && order.description !== order.title ? el("p", { class: "description" }, order.description) : null,
    order.caller_phone ? el("p", {}, el("a", { href: `tel:${order.caller_phone}` }, t("technician:call", {
      phone: order.caller_phone }))) : null,
    el("p", { class: overdue ? "due overdue" : "due" },
      t(overdue ? "technician:overdue" : "technician:due", { when: ctx.formatTime(order.due_at, order.site_id) })),
    el("div", { class: "actions" }, buttons),
    slot);
}

export default {
  id: "technician",
  path: "#/my-orders",
  roles: ["technician"],
  titleKey: "technician:title",
  namespace: "technician",
  async render(root, ctx) {
    await ctx.css("screens/field.css");
    const list = el("div", { class: "order-cards", "aria-live": "polite" });
    const count = el("span", { class: "count" });
    replace(root, el("section", { class: "field-screen" },
      el("h2", {}, ctx.t("technician:title"), " ", count), list));
    async function reload() {
      const page = await ctx.api("workorders", { query: { assignee: ctx.me.id, open_only: true, limit: OPEN_LIMIT } });
      const mine = page.items.filter((order) => !["completed", "verified", "followed_up"].includes(order.status));
      count.textContent = String(mine.length);
      replace(list, mine.length ? mine.map((order) => card(ctx, order, reload))
        : el("p", { class: "empty" }, ctx.t("technician:empty")));
    }
    ctx.on("workorder.", () => { if (!list.querySelector("form")) reload(); });
    await reload();
  },
};
