// One work order in a dialog: facts, history, dispatch to a qualified technician (the server's candidates,
// best first, with reasons), and the next steps of the loop with the completion form. Used by the dispatcher.

import { itemsOf } from "../lib/api.js";
import { el, field, replace, select } from "../lib/dom.js";
import { act, restoreValues, typedValues } from "../lib/forms.js";

// The steps a dispatcher is offered from each status (the server has the last word: 409 names what it allows).
const NEXT = {
  dispatched: ["accepted", "cancelled"], accepted: ["on_site", "cancelled"], on_site: ["in_progress"],
  in_progress: ["waiting", "completed"], waiting: ["in_progress", "cancelled"], completed: ["verified", "in_progress"],
  verified: ["followed_up", "closed"], followed_up: ["closed"], requested: ["cancelled"],
};
const WAITING = ["parts", "shutdown", "resident"];
const rendered = new WeakMap(); // dialog → the order JSON it shows (unchanged: not re-rendered)

function dispatchForm(ctx, order, proposal, reload) {
  const t = ctx.t;
  const candidates = proposal?.candidates || [];
  const options = [["", t("dispatcher:dispatch.best")], ...candidates.map((c) =>
    [c.user_id, `${c.user_id} · ${c.duty} · ${t("dispatcher:dispatch.open", { count: c.open_orders })}`])];
  const technician = select("technician", options, "");
  const form = el("form", { class: "stack", id: "dispatch-form" },
    el("h3", {}, t("dispatcher:dispatch.title")),
    proposal ? el("p", { class: "muted" }, t("dispatcher:dispatch.skill", { skill: proposal.skill })) : null,
    field(t("dispatcher:dispatch.to"), technician),
    candidates.length ? el("ul", { class: "reasons" }, candidates.slice(0, 3).map((c) =>
      el("li", {}, el("strong", {}, c.user_id), ": ", c.reasons.join("; ")))) : null,
    el("button", { type: "submit", class: "primary" }, t("dispatcher:dispatch.submit")));
  form.addEventListener("submit", act(ctx, reload, () => ctx.api(`workorders/${order.id}/dispatch`, { method: "POST",
    body: { technician: technician.value || null, expected_version: order.version } }), t("dispatcher:done.dispatch")));
  return form;
}

function stepForm(ctx, order, codes, reload) {
  const t = ctx.t;
  const next = NEXT[order.status] || [];
  if (!next.length) return null;
  const to = select("to_status", next.map((s) => [s, t(`dispatcher:status.${s}`)]), next[0], { id: "step-to" });
  const completion = el("fieldset", { class: "completion" }, el("legend", {}, t("dispatcher:completion.title")),
    field(t("dispatcher:completion.code"), select("failure_code", [["", "—"], ...codes.map((c) => [c.code, `${c.code} · ${c.label}`])], "")),
    field(t("dispatcher:completion.cause"), el("textarea", { name: "cause", maxlength: "2000" })),
    field(t("dispatcher:completion.remedy"), el("textarea", { name: "remedy", maxlength: "2000" })),
    field(t("dispatcher:completion.hours"), el("input", { name: "labour_hours", type: "number", min: "0", max: "1000", step: "0.25" })));
  const waiting = field(t("dispatcher:step.waitingFor"), select("waiting_for", WAITING.map((w) => [w, t(`dispatcher:waiting.${w}`)]), "parts"));
  const satisfaction = field(t("dispatcher:step.satisfaction"), el("input", { name: "satisfaction", type: "number", min: "1", max: "5" }));
  const note = field(t("dispatcher:step.note"), el("textarea", { name: "note", maxlength: "2000" }));
  const shown = () => {
    completion.hidden = to.value !== "completed";
    waiting.hidden = to.value !== "waiting";
    satisfaction.hidden = to.value !== "followed_up";
  };
  to.addEventListener("change", shown);
  shown();
  const form = el("form", { class: "stack", id: "step-form" }, el("h3", {}, t("dispatcher:step.title")),
    field(t("dispatcher:step.to"), to), completion, waiting, satisfaction, note,
    el("button", { type: "submit", class: "primary" }, t("dispatcher:step.submit")));
  form.addEventListener("submit", act(ctx, reload, () => {
    const data = Object.fromEntries(new FormData(form));
    const body = { to_status: data.to_status, note: data.note || "", expected_version: order.version };
    if (body.to_status === "completed") {
      Object.assign(body, { failure_code: data.failure_code || null, cause: data.cause || null, remedy: data.remedy || null,
                            labour_hours: data.labour_hours === "" ? null : Number(data.labour_hours) });
    }
    if (body.to_status === "waiting") body.waiting_for = data.waiting_for;
    if (body.to_status === "followed_up" && data.satisfaction) body.satisfaction = Number(data.satisfaction);
    return ctx.api(`workorders/${order.id}/transitions`, { method: "POST", body });
  }, t("dispatcher:done.step")));
  return form;
}

async function failureCodes(ctx, order) {
  try { // the codes depend on the asset's kind; an order without an asset has its own
    const kind = order.asset_id ? (await ctx.api(`assets/${order.asset_id}`)).kind : null;
    return itemsOf(await ctx.api("failure-codes", { query: { kind } }));
  } catch {
    return [];
  }
}

/** Show order `id` in the <dialog> `dialog`; `reload` refreshes the board (and this dialog) after an action. */
export async function showOrder(dialog, ctx, id, reload, focus = true) {
  const t = ctx.t;
  let order;
  try {
    order = await ctx.api(`workorders/${id}`);
  } catch (error) {
    ctx.notify(ctx.describe(error), "error");
    return;
  }
  const writes = ctx.can("orders");
  const [proposal, codes] = writes ? await Promise.all([
    order.status === "requested" ? ctx.api(`workorders/${id}/candidates`).catch(() => null) : null,
    failureCodes(ctx, order)]) : [null, []];
  const shown = JSON.stringify(order);
  if (dialog.open && dialog.dataset.workorderId === String(id) && rendered.get(dialog) === shown) return;
  rendered.set(dialog, shown);
  const typed = dialog.dataset.workorderId === String(id) ? typedValues(dialog) : new Map();
  dialog.dataset.workorderId = String(id);
  const close = el("button", { type: "button", class: "quiet", onclick: () => dialog.close() }, t("action.close"));
  replace(dialog, el("div", { class: "toolbar spread" }, el("h2", { id: "order-title" }, `#${order.id} ${order.title}`), close),
    el("dl", { class: "facts" },
      el("dt", {}, t("dispatcher:fact.status")), el("dd", { class: "order-status" }, t(`dispatcher:status.${order.status}`)),
      el("dt", {}, t("dispatcher:priority")), el("dd", {}, el("span", { class: `badge ${order.priority}` }, t(`priority.${order.priority}`))),
      el("dt", {}, t("dispatcher:fact.asset")), el("dd", {}, order.asset_id || "—"),
      el("dt", {}, t("dispatcher:fact.assignee")), el("dd", { class: "order-assignee" }, order.assignee || "—"),
      el("dt", {}, t("dispatcher:fact.due")), el("dd", {}, ctx.formatTime(order.due_at, order.site_id)),
      order.description ? [el("dt", {}, t("dispatcher:fact.description")), el("dd", {}, order.description)] : null),
    writes && order.status === "requested" ? dispatchForm(ctx, order, proposal, reload) : null,
    writes ? stepForm(ctx, order, codes, reload) : null,
    el("h3", {}, t("dispatcher:fact.history")),
    el("ol", { class: "history" }, order.history.map((e) => el("li", {},
      el("time", { datetime: e.at }, ctx.formatTime(e.at, order.site_id)), " · ", el("strong", {}, e.actor), " · ",
      t(`dispatcher:status.${e.to_status}`), e.note ? el("q", {}, e.note) : null))));
  restoreValues(dialog, typed);
  if (!dialog.open) dialog.showModal();
  if (focus) dialog.querySelector("h2").focus?.();
}
