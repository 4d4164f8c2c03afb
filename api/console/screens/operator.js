// Operator: live alarms with filters, the power-cut tree (suppressed alarms under their cause), the alarm
// KPIs of the last day, and an alarm's detail with history and actions (screens/alarm-detail.js).

import { itemsOf } from "../lib/api.js";
import { el, field, replace, select } from "../lib/dom.js";
import { showAlarm } from "./alarm-detail.js";

const SEVERITIES = ["critical", "high", "medium", "low"];
const STATES = ["unacknowledged", "acknowledged", "rtn_unacknowledged", "normal"];
const RANK = { critical: 0, high: 1, medium: 2, low: 3 };

/** Alarms ordered for the control room: causes first with what they suppress right under them. */
export function tree(alarms) {
  const byId = new Map(alarms.map((alarm) => [alarm.id, alarm]));
  const children = new Map();
  const roots = [];
  for (const alarm of alarms) {
    if (alarm.suppressed_by && byId.has(alarm.suppressed_by)) {
      if (!children.has(alarm.suppressed_by)) children.set(alarm.suppressed_by, []);
      children.get(alarm.suppressed_by).push(alarm);
    } else roots.push(alarm);
  }
  const order = (a, b) => Number(a.muted) - Number(b.muted) || RANK[a.severity] - RANK[b.severity]
    || b.started_at.localeCompare(a.started_at) || b.id - a.id;
  roots.sort(order);
  return roots.flatMap((root) => [[root, 0, (children.get(root.id) || []).length],
    ...(children.get(root.id) || []).sort(order).map((child) => [child, 1, 0])]);
}

function kpiCard(ctx, kpis) {
  const t = ctx.t;
  const figure = (key, value) => el("div", { class: "figure" }, el("span", { class: "muted" }, t(`operator:kpi.${key}`)),
    el("strong", {}, value));
  return el("section", { class: "card kpis", "aria-labelledby": "kpi-title" },
    el("h2", { id: "kpi-title" }, t("operator:kpi.title")),
    el("div", { class: "figures" },
      figure("alarms", kpis.alarms),
      figure("perTen", `${kpis.per_10min_avg.toFixed(1)} / ${kpis.per_10min_max}`),
      figure("flood", `${(kpis.flood_share * 100).toFixed(1)} %`),
      figure("top10", `${(kpis.top10_share * 100).toFixed(0)} %`),
      figure("chattering", kpis.chattering),
      figure("rating", t(`operator:rating.${kpis.rating}`, { defaultValue: kpis.rating }))));
}

function markers(ctx, alarm, under) {
  const t = ctx.t;
  return [
    alarm.shelved_until && el("span", { class: "badge quiet marker-shelved" },
      t("operator:marker.shelved", { until: ctx.formatTime(alarm.shelved_until, alarm.site_id) })),
    alarm.suppressed_by && el("span", { class: "badge quiet marker-suppressed" },
      t("operator:marker.suppressed", { id: alarm.suppressed_by })),
    alarm.out_of_service && el("span", { class: "badge quiet", title: alarm.out_of_service }, t("operator:marker.oos")),
    alarm.chattering && el("span", { class: "badge warn" }, t("operator:marker.chattering")),
    under > 0 && el("span", { class: "badge marker-grouped" }, t("operator:marker.grouped", { count: under })),
    alarm.assignee && el("span", { class: "badge quiet" }, t("operator:marker.assignee", { who: alarm.assignee })),
  ];
}

function row(ctx, assets, [alarm, depth, under], open) {
  const t = ctx.t;
  const asset = assets.get(alarm.asset_id);
  return el("tr", { dataset: { alarmId: alarm.id, severity: alarm.severity, ...(alarm.suppressed_by ? { suppressedBy: alarm.suppressed_by } : {}) },
                    class: depth ? "suppressed" : null },
    el("td", { "data-label": t("operator:col.severity") }, el("span", { class: `badge ${alarm.severity}` }, t(`severity.${alarm.severity}`))),
    el("td", { "data-label": t("operator:col.asset") }, asset ? asset.name : alarm.asset_id),
    el("td", { "data-label": t("operator:col.site") }, ctx.sites[alarm.site_id]?.name || alarm.site_id),
    el("td", { "data-label": t("operator:col.message"), class: depth ? "indent" : null }, alarm.message, " ", markers(ctx, alarm, under)),
    el("td", { "data-label": t("operator:col.since") }, ctx.formatTime(alarm.started_at, alarm.site_id)),
    el("td", { "data-label": t("operator:col.state") }, el("span", { class: `alarm-state state-${alarm.state}` }, t(`operator:state.${alarm.state}`))),
    el("td", {}, el("button", { type: "button", onclick: () => open(alarm.id) }, t("action.details"),
      el("span", { class: "visually-hidden" }, ` #${alarm.id}`))));
}

function filterBar(ctx, filters, apply) {
  const t = ctx.t;
  const all = [["", t("all")]];
  const site = select("site", [...all, ...Object.entries(ctx.sites).map(([id, s]) => [id, s.name])], filters.site);
  const severity = select("severity", [...all, ...SEVERITIES.map((s) => [s, t(`severity.${s}`)])], filters.severity);
  const state = select("state", [...all, ...STATES.map((s) => [s, t(`operator:state.${s}`)])], filters.state);
  const muted = select("muted", [["active", t("operator:filter.live")], ["all", t("operator:filter.withMuted")]], filters.muted);
  const asset = el("input", { name: "asset", type: "search", value: filters.asset || "" });
  const form = el("form", { class: "toolbar", role: "search" },
    field(t("operator:col.site"), site), field(t("operator:col.severity"), severity),
    field(t("operator:col.state"), state), field(t("operator:filter.show"), muted),
    field(t("operator:col.asset"), asset), el("button", { type: "submit" }, t("action.apply")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply({ site: site.value, severity: severity.value, state: state.value, muted: muted.value, asset: asset.value.trim() });
  });
  return form;
}

function matches(alarm, filters, assets) {
  if (filters.severity && alarm.severity !== filters.severity) return false;
  if (filters.asset) {
    const needle = filters.asset.toLowerCase();
    const name = (assets.get(alarm.asset_id)?.name || "").toLowerCase();
    if (!alarm.asset_id.toLowerCase().includes(needle) && !name.includes(needle)) return false;
  }
  return filters.muted === "all" || !alarm.shelved_until; // shelved ones only when asked for
}

export default {
  id: "operator",
  path: "#/alarms",
  roles: ["operator", "supervisor", "admin", "viewer"],
  titleKey: "operator:title",
  namespace: "operator",
  async render(root, ctx) {
    const t = ctx.t;
    const filters = { site: "", severity: "", state: "", muted: "active", asset: "", ...ctx.route.query };
    const assets = new Map(itemsOf(await ctx.api("assets", { query: { limit: 500 } })).map((a) => [a.id, a]));
    const kpiSlot = el("div");
    const count = el("span", { class: "count", id: "alarm-count" });
    const body = el("tbody");
    const detail = el("div", { class: "detail-slot" });
    const open = (id) => showAlarm(detail, ctx, id, assets, reload);
    replace(root,
      el("h1", {}, t("operator:title"), " ", count),
      kpiSlot,
      filterBar(ctx, filters, (next) => { Object.assign(filters, next); reload(); }),
      el("div", { class: "split" },
        el("section", { class: "card" }, el("table", { id: "alarms", class: "cards" },
          el("thead", {}, el("tr", {}, ["severity", "asset", "site", "message", "since", "state"].map((c) =>
            el("th", { scope: "col" }, t(`operator:col.${c}`))), el("th", { scope: "col" }, el("span", { class: "visually-hidden" }, t("action.details"))))),
          body)),
        detail));

    let latest = 0;
    async function reload() {
      const mine = ++latest; // overlapping reloads (an action and a live event): only the newest one shows
      const query = { site: filters.site, state: filters.state, asset: filters.asset || null, priority: filters.severity || null,
                      active_only: filters.state ? null : true, limit: 500 };
      const alarms = itemsOf(await ctx.api("alarms", { query })).filter((a) => matches(a, filters, assets));
      if (mine !== latest) return;
      const rows = tree(alarms);
      count.textContent = `(${alarms.filter((a) => !a.muted).length})`;
      replace(body, rows.length ? rows.map((entry) => row(ctx, assets, entry, open))
        : el("tr", { class: "empty" }, el("td", { colspan: "7" }, t("operator:none"))));
      const kpis = await ctx.api("alarms/kpis").catch(() => null);
      if (mine !== latest) return;
      replace(kpiSlot, kpis ? kpiCard(ctx, kpis) : null);
      if (detail.dataset.alarmId) showAlarm(detail, ctx, Number(detail.dataset.alarmId), assets, reload, false);
    }

    let pending = null;
    ctx.on("alarm.", (data, topic) => {
      if (topic === "alarm.raised" && data?.severity === "critical") {
        ctx.notify(t("operator:announce.critical", { asset: assets.get(data.asset_id)?.name || data.asset_id }), "error");
      }
      clearTimeout(pending);
      pending = setTimeout(reload, 150); // a burst of events: one reload
    });
    await reload();
    if (ctx.route.rest[0]) open(Number(ctx.route.rest[0]));
    return () => clearTimeout(pending);
  },
};
