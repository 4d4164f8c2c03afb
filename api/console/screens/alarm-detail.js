// One alarm: its facts, history (who did what, when), the alarms it suppresses, and the operator's actions
// (acknowledge, comment, shelve for a chosen time with a reason, unshelve, assign). Used by the operator screen.

import { itemsOf } from "../lib/api.js";
import { el, field, replace, select } from "../lib/dom.js";
import { act, restoreValues, typedValues } from "../lib/forms.js";

const SHELF_HOURS = [1, 4, 8, 24, 72, 168];
const rendered = new WeakMap(); // panel → the alarm JSON it shows

function history(ctx, alarm) {
  const t = ctx.t;
  return el("ol", { class: "history" }, alarm.history.map((event) => el("li", {},
    el("time", { datetime: event.at }, ctx.formatTime(event.at, alarm.site_id)), " · ",
    el("strong", {}, event.actor), " · ",
    event.from_state && event.from_state !== event.to_state
      ? t("operator:history.change", { from: t(`operator:state.${event.from_state}`), to: t(`operator:state.${event.to_state}`) })
      : t(`operator:state.${event.to_state}`),
    event.note ? el("q", {}, event.note) : null)));
}

function actions(ctx, alarm, reload, people) {
  const t = ctx.t;
  const path = `alarms/${alarm.id}`;
  const ackable = alarm.state === "unacknowledged" || alarm.state === "rtn_unacknowledged";
  const ack = el("button", { type: "button", class: "primary", disabled: !ackable,
    onclick: act(ctx, reload, () => ctx.api(`${path}/acknowledge`, { method: "POST", body: {} }), t("operator:done.ack")) },
  t("operator:action.ack"));

  const note = el("textarea", { name: "note", required: true, maxlength: "2000" });
  const comment = el("form", { class: "stack" }, field(t("operator:action.comment"), note),
    el("button", { type: "submit" }, t("operator:action.addComment")));
  comment.addEventListener("submit", act(ctx, reload,
    () => ctx.api(`${path}/comments`, { method: "POST", body: { note: note.value.trim() } }), t("operator:done.comment")));

  const hours = select("hours", SHELF_HOURS.map((h) => [h, t("operator:shelf.hours", { count: h })]), 8);
  const reason = el("input", { name: "reason", required: true, maxlength: "2000" });
  const shelve = el("form", { class: "stack" },
    el("div", { class: "toolbar" }, field(t("operator:shelf.for"), hours), field(t("operator:shelf.reason"), reason)),
    el("button", { type: "submit", disabled: alarm.state === "normal" }, t("operator:action.shelve")));
  shelve.addEventListener("submit", act(ctx, reload, () => ctx.api(`${path}/shelve`, { method: "POST",
    body: { for_s: Number(hours.value) * 3600, reason: reason.value.trim() } }), t("operator:done.shelve")));
  const unshelve = alarm.shelved_until && el("button", { type: "button",
    onclick: act(ctx, reload, () => ctx.api(`${path}/unshelve`, { method: "POST", body: {} }), t("operator:done.unshelve")) },
  t("operator:action.unshelve"));

  const assignee = el("input", { name: "assignee", list: "alarm-people", value: alarm.assignee || "", maxlength: "200" });
  const assign = el("form", { class: "stack" },
    field(t("operator:action.assignTo"), assignee),
    el("datalist", { id: "alarm-people" }, people.map((p) => el("option", { value: p.user_id || p.id }, p.name))),
    el("button", { type: "submit", disabled: alarm.state === "normal" }, t("operator:action.assign")));
  assign.addEventListener("submit", act(ctx, reload, () => ctx.api(`${path}/assign`, { method: "POST",
    body: { assignee: assignee.value.trim() || null } }), t("operator:done.assign")));

  return el("div", { class: "alarm-actions" }, el("div", { class: "actions" }, ack, unshelve), comment, shelve, assign);
}

/** Render alarm `id` into `slot`; `reload` refreshes the list (and this panel) after an action. */
export async function showAlarm(slot, ctx, id, assets, reload, focus = true) {
  const t = ctx.t;
  let alarm;
  try {
    alarm = await ctx.api(`alarms/${id}`);
  } catch (error) {
    replace(slot, el("p", { class: "error", role: "alert" }, ctx.describe(error)));
    return;
  }
  const people = ctx.can("alarms") ? itemsOf(await ctx.api("technicians", { query: { limit: 500 } }).catch(() => [])) : [];
  const shown = JSON.stringify(alarm);
  if (slot.dataset.alarmId === String(id) && rendered.get(slot) === shown) { // unchanged: leave the form be
    if (focus) slot.querySelector("h2")?.focus();
    return;
  }
  rendered.set(slot, shown);
  const typed = slot.dataset.alarmId === String(id) ? typedValues(slot) : new Map();
  slot.dataset.alarmId = String(id);
  const close = el("button", { type: "button", class: "quiet", onclick: () => { delete slot.dataset.alarmId; replace(slot); } },
    t("action.close"));
  const heading = el("h2", { tabindex: "-1", id: "alarm-detail-title" }, `#${alarm.id} ${alarm.message}`);
  replace(slot, el("section", { class: "card alarm-detail", "aria-labelledby": "alarm-detail-title" },
    el("div", { class: "toolbar spread" }, heading, close),
    el("dl", { class: "facts" },
      el("dt", {}, t("operator:col.severity")), el("dd", {}, el("span", { class: `badge ${alarm.severity}` }, t(`severity.${alarm.severity}`))),
      el("dt", {}, t("operator:col.state")), el("dd", { class: "alarm-state" }, t(`operator:state.${alarm.state}`)),
      el("dt", {}, t("operator:col.asset")), el("dd", {}, assets.get(alarm.asset_id)?.name || alarm.asset_id),
      el("dt", {}, t("operator:col.since")), el("dd", {}, ctx.formatTime(alarm.started_at, alarm.site_id)),
      alarm.work_order_id && [el("dt", {}, t("operator:detail.order")),
        el("dd", {}, el("a", { href: `#/orders/${alarm.work_order_id}` }, `#${alarm.work_order_id}`))],
      alarm.shelve_reason && [el("dt", {}, t("operator:shelf.reason")), el("dd", {}, alarm.shelve_reason)]),
    alarm.suppressed.length ? [el("h3", {}, t("operator:detail.suppressed", { count: alarm.suppressed.length })),
      el("ul", {}, alarm.suppressed.map((a) => el("li", {}, `#${a.id} ${assets.get(a.asset_id)?.name || a.asset_id}: ${a.message}`)))] : null,
    ctx.can("alarms") ? actions(ctx, alarm, reload, people) : null,
    el("h3", {}, t("operator:detail.history")), history(ctx, alarm)));
  restoreValues(slot, typed); // a refresh (live event, another action) keeps what is being typed
  if (focus) heading.focus();
}

