// Dispatcher: the work-order board by state, with SLA clocks (time to the next deadline) and overdue marks
// (the server's `overdue=true` filter decides), filters; an order opens in screens/order-detail.js.

import { itemsOf } from "../lib/api.js";
import { el, field, replace, select } from "../lib/dom.js";
import { formatDuration } from "../lib/time.js";
import { showOrder } from "./order-detail.js";

export const COLUMNS = ["requested", "dispatched", "accepted", "on_site", "in_progress", "waiting", "completed",
                        "verified", "followed_up"];
const PRIORITIES = ["emergency", "urgent", "normal", "planned"];

function slaClock(ctx, order, overdue) {
  const left = (new Date(order.due_at).getTime() - Date.now()) / 1000;
  const text = overdue ? ctx.t("dispatcher:overdueBy", { time: formatDuration(Math.min(left, 0), ctx.t) })
    : ctx.t("dispatcher:dueIn", { time: formatDuration(Math.max(left, 0), ctx.t) });
  return el("span", { class: `sla ${overdue ? "badge overdue" : "muted"}`, title: ctx.formatTime(order.due_at, order.site_id) },
    overdue ? [ctx.t("dispatcher:overdue"), " · ", text] : text);
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
