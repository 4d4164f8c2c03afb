// Dispatcher: the work-order board by state, with SLA clocks (time to the next deadline) and overdue marks
// (the server's `overdue=true` filter decides), filters; an order opens in screens/order-detail.js.

import { itemsOf } from "../lib/api.js";
import { el, field, replace, select } from "../lib/dom.js";
import { formatDuration } from "../lib/time.js";
import { showOrder } from "./order-detail.js";

export const COLUMNS = ["requested", "dispatched", "accepted", "on_site", "in_progress", "waiting", "completed",
                        "verified", "followed_up"];
const PRIORITIES = ["emergency", "urgent", "normal", "planned"];

/** Seconds of an ISO 8601 duration as pydantic writes a timedelta ("P1DT2H3M4.5S", "-PT30M"). */
export function durationSeconds(text) {
  const m = /^(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?)?$/.exec(text || "");
  if (!m) return null;
  const seconds = (Number(m[2] || 0) * 86400) + (Number(m[3] || 0) * 3600) + (Number(m[4] || 0) * 60) + Number(m[5] || 0);
  return m[1] ? -seconds : seconds;
}

// The SLA clock of a card: what is left on the order's running target as the server counts it (its own clock,
// business hours and pauses), from GET /workorders/{id}/sla; until that answers, the deadline itself.
function slaClock(ctx, order, overdue) {
  const due = ctx.t("dispatcher:dueAt", { time: ctx.formatTime(order.due_at, order.site_id) });
  return el("span", { class: `sla ${overdue ? "badge overdue" : "muted"}` }, overdue ? [ctx.t("dispatcher:overdue"), " · ", due] : due);
}

async function fillClock(ctx, order, node, overdue) {
  const sla = await ctx.api(`workorders/${order.id}/sla`).catch(() => null);
  const target = sla?.targets.find((one) => !one.met_at && one.state !== "stopped");
  if (!target) return;
  const left = durationSeconds(target.limit) - durationSeconds(target.elapsed);
  const late = overdue || target.state === "breached" || left < 0;
  const text = late ? ctx.t("dispatcher:overdueBy", { time: formatDuration(Math.min(left, 0), ctx.t) })
    : ctx.t("dispatcher:dueIn", { time: formatDuration(left, ctx.t) });
  node.className = `sla ${late ? "badge overdue" : target.state === "at_risk" ? "badge warn" : "muted"}`;
  node.dataset.target = target.target;
  node.title = ctx.formatTime(target.due_at, order.site_id);
  replace(node, late ? [ctx.t("dispatcher:overdue"), " · ", text] : [ctx.t(`dispatcher:target.${target.target}`,
    { defaultValue: target.target }), " · ", text]);
}

function card(ctx, order, overdue, open) {
  const t = ctx.t;
  return el("li", { class: `order-card${overdue ? " is-overdue" : ""}`, dataset: { workorderId: order.id, overdue: String(overdue) } },
    el("button", { type: "button", class: "order-open", onclick: () => open(order.id) },
      el("span", { class: `badge ${order.priority}` }, t(`priority.${order.priority}`)), " ",
      el("strong", {}, `#${order.id} ${order.title}`)),
    el("span", { class: "muted" }, [order.asset_id || ctx.sites[order.site_id]?.name || order.site_id,
      order.assignee ? ` · ${order.assignee}` : ""]),
    slaClock(ctx, order, overdue));
}

export default {
  id: "dispatcher",
  path: "#/orders",
  roles: ["dispatcher", "supervisor", "admin", "viewer"],
  titleKey: "dispatcher:title",
  namespace: "dispatcher",
  async render(root, ctx) {
    const t = ctx.t;
    const filters = { site: "", priority: "", overdue: "", ...ctx.route.query };
    const board = el("div", { class: "board", id: "board" });
    const total = el("span", { class: "count", id: "order-count" });
    const detail = el("dialog", { class: "order-dialog", "aria-labelledby": "order-title" });
    const open = (id) => showOrder(detail, ctx, id, reload);
    const site = select("site", [["", t("all")], ...Object.entries(ctx.sites).map(([id, s]) => [id, s.name])], filters.site);
    const priority = select("priority", [["", t("all")], ...PRIORITIES.map((p) => [p, t(`priority.${p}`)])], filters.priority);
    const overdueOnly = el("input", { type: "checkbox", name: "overdue", checked: filters.overdue === "true" });
    const bar = el("form", { class: "toolbar", role: "search" }, field(t("dispatcher:site"), site),
      field(t("dispatcher:priority"), priority), el("label", { class: "check" }, overdueOnly, t("dispatcher:overdueOnly")),
      el("button", { type: "submit" }, t("action.apply")));
    bar.addEventListener("submit", (event) => {
      event.preventDefault();
      Object.assign(filters, { site: site.value, priority: priority.value, overdue: overdueOnly.checked ? "true" : "" });
      reload();
    });
    replace(root, el("h1", {}, t("dispatcher:title"), " ", total), bar, board, detail);

    let latest = 0;
    async function reload() {
      const mine = ++latest;
      const query = { open_only: true, site: filters.site, priority: filters.priority, limit: 500 };
      const [orders, late] = await Promise.all([
        ctx.api("workorders", { query: { ...query, overdue: filters.overdue || null } }),
        ctx.api("workorders", { query: { ...query, overdue: true } })]);
      if (mine !== latest) return;
      const overdue = new Set(itemsOf(late).map((o) => o.id));
      const list = itemsOf(orders);
      total.textContent = `(${list.length})`;
      replace(board, COLUMNS.map((status) => {
        const here = list.filter((o) => o.status === status)
          .sort((a, b) => Number(overdue.has(b.id)) - Number(overdue.has(a.id)) || a.due_at.localeCompare(b.due_at));
        return el("section", { class: "column", dataset: { status }, "aria-label": t(`dispatcher:status.${status}`) },
          el("h2", {}, t(`dispatcher:status.${status}`), " ", el("span", { class: "count" }, `(${here.length})`)),
          here.length ? el("ul", {}, here.map((o) => card(ctx, o, overdue.has(o.id), open)))
            : el("p", { class: "empty" }, t("empty")));
      }));
      for (const order of list.slice(0, 100)) { // the clocks of the first 100 cards, as the server counts them
        const node = board.querySelector(`[data-workorder-id="${order.id}"] .sla`);
        if (node) fillClock(ctx, order, node, overdue.has(order.id));
      }
      if (detail.open && detail.dataset.workorderId) showOrder(detail, ctx, Number(detail.dataset.workorderId), reload, false);
    }

    let pending = null;
    ctx.on("workorder.", () => { clearTimeout(pending); pending = setTimeout(reload, 150); });
    const tick = setInterval(reload, 60000); // the SLA clocks move on
    await reload();
    if (ctx.route.rest[0]) open(Number(ctx.route.rest[0]));
    return () => { clearTimeout(pending); clearInterval(tick); if (detail.open) detail.close(); };
  },
};
