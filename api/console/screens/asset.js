// One asset for planners (and every staff reader): its health and remaining life with the P10-P90 band over
// time, its telemetry as zoomable charts (drag across a chart to zoom: the server sends finer buckets for
// the narrower span), its open orders and planned tasks. Without an asset id: the list of assets to choose.

import { itemsOf } from "../lib/api.js";
import { el, replace } from "../lib/dom.js";
import uPlot from "../vendor/uplot/uPlot.esm.js";

const SPANS = [["1d", 86_400], ["7d", 7 * 86_400], ["30d", 30 * 86_400], ["90d", 90 * 86_400]];
const POINTS = 600;
const CHART_HEIGHT = 220;

function chartOptions(width, series, zone, hooks = {}, bands = [], span = null) {
  return {
    width, height: CHART_HEIGHT, series: [{}, ...series], bands, hooks,
    tzDate: zone ? (ts) => uPlot.tzDate(new Date(ts * 1e3), zone) : undefined,
    cursor: { drag: { x: true, y: false } },
    // A telemetry chart spans the window asked for (not only where data lies): gaps show as gaps.
    scales: { x: span ? { time: true, range: () => [span.since, span.until] } : { time: true } },
    legend: { live: true },
  };
}

/** A telemetry chart: mean as a line, min..max as a band; zooming fetches the narrower span again. */
function telemetryChart(ctx, asset, metric, range, zone, plots) {
  const t = ctx.t;
  const box = el("div", { class: "chart", "data-metric": metric.name });
  const summary = el("p", { class: "chart-summary" });
  const reset = el("button", { type: "button", class: "small", hidden: true }, t("asset:reset_zoom"));
  const figure = el("figure", { class: "chart-card" },
    el("figcaption", {}, el("strong", {}, t(`asset:metric.${metric.name}`, { defaultValue: metric.description })),
      ` (${metric.unit})`, reset), box, summary);
  let plot = null;
  const shown = { since: range.since, until: range.until };
  async function load(since, until) {
    Object.assign(shown, { since, until });
    const data = await ctx.api(`assets/${encodeURIComponent(asset.id)}/chart`, { query: {
      metric: metric.name, since: new Date(since * 1e3).toISOString(), until: new Date(until * 1e3).toISOString(),
      points: POINTS } });
    const columns = [data.at, data.min, data.max, data.mean];
    summary.textContent = data.at.length ? t("asset:summary", {
      low: Math.min(...data.min.filter((v) => v !== null)).toFixed(2),
      high: Math.max(...data.max.filter((v) => v !== null)).toFixed(2),
      count: data.at.length, bucket: data.window_s }) : t("asset:no_data");
    if (plot) {
      plot.setData(columns);
      return;
    }
    const zoom = (u) => {
      if (u.select.width < 5) return;
      const from = u.posToVal(u.select.left, "x");
      const to = u.posToVal(u.select.left + u.select.width, "x");
      u.setSelect({ left: 0, width: 0 }, false);
      reset.hidden = false;
      load(Math.floor(from), Math.ceil(to)).catch((error) => ctx.notify(ctx.describe(error), "error"));
    };
    plot = new uPlot(chartOptions(box.clientWidth || 320, [
      { label: t("asset:min"), stroke: "rgba(31,95,168,.35)", width: 1 },
      { label: t("asset:max"), stroke: "rgba(31,95,168,.35)", width: 1 },
      { label: t("asset:mean"), stroke: "#1f5fa8", width: 2 },
    ], zone, { setSelect: [zoom] }, [{ series: [2, 1], fill: "rgba(31,95,168,.15)" }], shown), columns, box);
    plots.push(plot);
  }
  reset.addEventListener("click", () => {
    reset.hidden = true;
    load(range.since, range.until).catch((error) => ctx.notify(ctx.describe(error), "error"));
  });
  return { figure, load: () => load(range.since, range.until) };
}

/** Remaining life over time: the median and its P10-P90 band, from the stored forecasts (oldest first). */
function forecastChart(ctx, forecasts, zone, plots) {
  const box = el("div", { class: "chart", "data-chart": "forecast" });
  const rows = [...forecasts].filter((f) => f.rul_days !== null).reverse();
  const columns = [rows.map((f) => Date.parse(f.at) / 1e3), rows.map((f) => f.rul_p10_days),
    rows.map((f) => f.rul_p90_days), rows.map((f) => f.rul_days)];
  // Drawn once the box is in the page (uPlot measures its width).
  box.draw = () => {
    if (!rows.length) return;
    plots.push(new uPlot(chartOptions(box.clientWidth || 320, [
      { label: "P10", stroke: "rgba(154,103,0,.5)", width: 1 },
      { label: "P90", stroke: "rgba(154,103,0,.5)", width: 1 },
      { label: ctx.t("asset:rul_p50"), stroke: "#9a6700", width: 2 },
    ], zone, {}, [{ series: [2, 1], fill: "rgba(154,103,0,.15)" }]), columns, box));
  };
  return box;
}

function forecastCard(ctx, forecasts, zone, plots) {
  const t = ctx.t;
  const latest = forecasts[0];
  if (!latest) return el("section", { class: "card" }, el("h3", {}, t("asset:forecast")), el("p", {}, t("asset:no_forecast")));
  const days = (value) => (value === null || value === undefined ? "—" : String(Math.round(value)));
  const life = latest.rul_days === null ? t("asset:rul_none")
    : t("asset:rul", { p50: days(latest.rul_days), p10: days(latest.rul_p10_days), p90: days(latest.rul_p90_days) });
  return el("section", { class: "card forecast" },
    el("h3", {}, t("asset:forecast")),
    el("p", { class: "health" }, t("asset:health", { health: Math.round(latest.health) })),
    el("p", { class: "rul" }, life),
    latest.p_fail_30d === null ? null : el("p", {}, t("asset:p_fail", { p: Math.round(latest.p_fail_30d * 100) })),
    el("p", { class: "hint" }, t("asset:driver", { driver: latest.driver, model: latest.model })),
    forecastChart(ctx, forecasts, zone, plots));
}

async function workList(ctx, asset) {
  const t = ctx.t;
  const [orders, tasks] = await Promise.all([
    ctx.api("workorders", { query: { asset: asset.id, open_only: true, limit: 20 } }).catch(() => ({ items: [] })),
    ctx.api("plan-tasks", { query: { asset: asset.id, status: ["proposed", "accepted", "moved"], limit: 20 } })
      .catch(() => ({ items: [] })),
  ]);
  return el("section", { class: "card" },
    el("h3", {}, t("asset:work")),
    el("ul", { class: "work" },
      orders.items.map((o) => el("li", {}, `#${o.id} ${o.title} · ${o.status}`)),
      tasks.items.map((task) => el("li", {}, el("a", { href: `#/plan?month=${task.planned_date.slice(0, 7)}` },
        `${task.planned_date} · ${task.task}`))),
      orders.items.length + tasks.items.length ? null : el("li", { class: "empty" }, t("asset:no_work"))));
}

/** The QR code for the asset's plate: it opens the residents' repair form for this asset. */
function qrCard(ctx, asset) {
  const base = `api/v1/assets/${encodeURIComponent(asset.id)}/qr`;
  return el("section", { class: "card qr" }, el("h3", {}, ctx.t("asset:qr")),
    el("img", { src: `${base}.svg?scale=4`, alt: ctx.t("asset:qr_alt", { name: asset.name }), width: 164, height: 164 }),
    el("p", {}, el("a", { href: `${base}.png?scale=12`, download: `${asset.id}-qr.png` }, ctx.t("asset:qr_png")), " · ",
      el("a", { href: `${base}.svg`, download: `${asset.id}-qr.svg` }, ctx.t("asset:qr_svg"))));
}

async function assetList(root, ctx) {
  const t = ctx.t;
  const [assets, forecasts] = await Promise.all([ctx.api("assets", { query: { limit: 500 } }),
    ctx.api("forecasts", { query: { limit: 500 } }).catch(() => [])]);
  const health = new Map(itemsOf(forecasts).map((f) => [f.asset_id, f]));
  replace(root, el("section", { class: "field-screen" }, el("h2", {}, t("asset:list")),
    el("ul", { class: "asset-list" }, itemsOf(assets).map((asset) => el("li", {},
      el("a", { href: `#/asset/${encodeURIComponent(asset.id)}` }, asset.name), " ",
      el("span", { class: "hint" }, `${ctx.sites[asset.site_id]?.name || asset.site_id} · ${t(`asset:kind.${asset.kind}`)}`,
        health.has(asset.id) ? ` · ${t("asset:health", { health: Math.round(health.get(asset.id).health) })}` : ""))))));
}

export default {
  id: "asset",
  path: "#/asset",
  roles: ["planner", "admin", "operator", "dispatcher", "supervisor", "viewer"],
  titleKey: "asset:title",
  namespace: "asset",
  async render(root, ctx) {
    await Promise.all([ctx.css("screens/field.css"), ctx.css("vendor/uplot/uPlot.min.css")]);
    const id = ctx.route.rest[0];
    if (!id) return assetList(root, ctx);
    const t = ctx.t;
    const [asset, metrics, forecasts] = await Promise.all([
      ctx.api(`assets/${encodeURIComponent(id)}`), ctx.api(`assets/${encodeURIComponent(id)}/metrics`),
      ctx.api(`forecasts/${encodeURIComponent(id)}`).catch(() => []),
    ]);
    const zone = ctx.sites[asset.site_id]?.time_zone || null;
    const plots = [];
    const spanKey = SPANS.some(([key]) => key === ctx.route.query.span) ? ctx.route.query.span : "7d";
    const until = Math.ceil(Date.now() / 1e3);
    const range = { since: until - SPANS.find(([key]) => key === spanKey)[1], until };
    const charts = itemsOf(metrics).filter((m) => m.type === "gauge")
      .map((metric) => telemetryChart(ctx, asset, metric, range, zone, plots));
    replace(root, el("section", { class: "field-screen asset-page", "data-asset-id": asset.id },
      el("h2", {}, asset.name),
      el("p", { class: "hint" }, `${ctx.sites[asset.site_id]?.name || asset.site_id} · ${t(`asset:kind.${asset.kind}`)}`,
        asset.latest ? ` · ${t("asset:latest", { when: ctx.formatTime(asset.latest.at, asset.site_id) })}` : ""),
      el("div", { class: "asset-grid" }, forecastCard(ctx, itemsOf(forecasts), zone, plots), await workList(ctx, asset),
        qrCard(ctx, asset)),
      el("nav", { class: "spans", "aria-label": t("asset:span") }, SPANS.map(([key]) => el("a", {
        class: "button", href: `#/asset/${encodeURIComponent(asset.id)}?span=${key}`,
        "aria-current": key === spanKey ? "true" : null }, t(`asset:spans.${key}`)))),
      el("p", { class: "hint" }, t("asset:zoom_hint")),
      el("div", { class: "charts" }, charts.map((chart) => chart.figure))));
    root.querySelector('.chart[data-chart="forecast"]')?.draw();
    await Promise.all(charts.map((chart) => chart.load()));
    const resize = new ResizeObserver(() => {
      for (const plot of plots) plot.setSize({ width: plot.root.parentElement.clientWidth || 320, height: CHART_HEIGHT });
    });
    resize.observe(root);
    return () => {
      resize.disconnect();
      plots.forEach((plot) => plot.destroy());
    };
  },
};
