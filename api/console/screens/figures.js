// Manager's figures: the month's service-standard figures per site and kind, charts (uPlot), and a CSV
// export written in the console's language (headers and kinds translated, numbers as the API gives them).

import { el, field, replace, select } from "../lib/dom.js";
import uPlot from "../vendor/uplot/uPlot.esm.js";

const CHARTED = ["repair_rate", "sla_emergency", "sla_urgent", "pm_compliance", "first_time_fix_rate", "follow_up_coverage"];
const COLOURS = ["#1f5fa8", "#b3261e", "#b34e00", "#2e7d32", "#6a3d9a", "#00838f"];
const SHOWN = ["orders_opened", "repairs", "repair_rate", "mttr_hours", "mtbf_hours", "sla_emergency", "sla_urgent",
               "sla_normal", "pm_compliance", "first_time_fix_rate", "repeat_failures", "complaints", "satisfaction",
               "follow_up_coverage"];
const RATIOS = new Set(["repair_rate", "pm_compliance", "first_time_fix_rate", "follow_up_coverage",
                        "sla_emergency", "sla_urgent", "sla_normal", "sla_planned"]);

function defaultMonth(now = new Date()) {
  return `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, "0")}`;
}

function show(t, name, value) {
  if (value === null || value === undefined) return t("figures:na");
  if (RATIOS.has(name)) return `${(value * 100).toFixed(1)} %`;
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

const rowName = (ctx, row) => `${ctx.sites[row.site_id]?.name || row.site_id} · ${ctx.t(`figures:kind.${row.kind}`, { defaultValue: row.kind })}`;

/** The rows as CSV with translated headers (RFC 4180 quoting), with a BOM so spreadsheet programs read UTF-8. */
export function toCsv(ctx, report) {
  const names = report.rows.length ? Object.keys(report.rows[0].figures) : [];
  const quote = (value) => (/[",\n]/.test(value) ? `"${value.replaceAll("\"", "\"\"")}"` : value);
  const header = [ctx.t("figures:col.site"), ctx.t("figures:col.month"), ctx.t("figures:col.kind"),
                  ...names.map((n) => ctx.t(`figures:figure.${n}`, { defaultValue: n }))];
  const lines = [header, ...report.rows.map((row) => [ctx.sites[row.site_id]?.name || row.site_id, report.month,
    ctx.t(`figures:kind.${row.kind}`, { defaultValue: row.kind }),
    ...names.map((n) => (row.figures[n] === null ? "" : String(row.figures[n])))])];
  return `\uFEFF${lines.map((line) => line.map((cell) => quote(String(cell))).join(",")).join("\r\n")}\r\n`;
}

function chart(ctx, rows, width) {
  const t = ctx.t;
  const xs = rows.map((_, i) => i);
  const bars = uPlot.paths.bars({ size: [0.8, 40], gap: 2 });
  const data = [xs, ...CHARTED.map((name) => rows.map((row) => (row.figures[name] ?? null) * 100))];
  const box = el("div", { class: "chart", role: "img", "aria-label": t("figures:chartLabel") });
  const plot = new uPlot({
    width, height: 280,
    scales: { x: { time: false, range: [-0.5, rows.length - 0.5] }, y: { range: [0, 100] } },
    axes: [{ values: (_, ticks) => ticks.map((i) => (Number.isInteger(i) && rows[i] ? rowName(ctx, rows[i]) : "")), size: 40 },
           { values: (_, ticks) => ticks.map((v) => `${v} %`) }],
    series: [{}, ...CHARTED.map((name, i) => ({ label: t(`figures:figure.${name}`), stroke: COLOURS[i], fill: `${COLOURS[i]}99`,
      paths: bars, points: { show: false }, value: (_, v) => (v === null ? t("figures:na") : `${v.toFixed(1)} %`) }))],
  }, data, box);
  return [box, plot];
}

export default {
  id: "figures",
  path: "#/figures",
  roles: ["supervisor", "admin", "viewer", "dispatcher", "planner"],
  titleKey: "figures:title",
  namespace: "figures",
  async render(root, ctx) {
    const t = ctx.t;
    await ctx.css("vendor/uplot/uPlot.min.css");
    const month = el("input", { type: "month", name: "month", value: ctx.route.query.month || defaultMonth(), required: true });
    const site = select("site", [["all", t("all")], ...Object.entries(ctx.sites).map(([id, s]) => [id, s.name])],
      ctx.route.query.site || "all");
    const exportButton = el("button", { type: "button", id: "figures-export" }, t("action.export"));
    const form = el("form", { class: "toolbar" }, field(t("figures:col.month"), month), field(t("figures:col.site"), site),
      el("button", { type: "submit", class: "primary" }, t("action.apply")), exportButton);
    const out = el("div");
    replace(root, el("h1", {}, t("figures:title")), form, out);
    let report = null;
    let plot = null;

    async function load() {
      report = await ctx.api("reports/monthly", { query: { month: month.value, site: site.value } });
      plot?.destroy();
      plot = null;
      if (!report.rows.length) {
        replace(out, el("p", { class: "empty" }, t("empty")));
        return;
      }
      const card = el("section", { class: "card" }, el("h2", {}, t("figures:chartTitle", { month: report.month })));
      replace(out, card, el("section", { class: "card table-scroll" }, el("table", { id: "figures-table" },
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("figures:col.row")),
          SHOWN.map((n) => el("th", { scope: "col" }, t(`figures:figure.${n}`, { defaultValue: n }))))),
        el("tbody", {}, report.rows.map((row) => el("tr", { dataset: { site: row.site_id, kind: row.kind } },
          el("th", { scope: "row" }, rowName(ctx, row)),
          SHOWN.map((n) => el("td", {}, show(t, n, row.figures[n])))))))));
      const [box, made] = chart(ctx, report.rows, Math.max(300, card.clientWidth - 32));
      card.append(box);
      plot = made;
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try { await load(); } catch (error) { ctx.notify(ctx.describe(error), "error"); }
    });
    exportButton.addEventListener("click", () => {
      if (!report) return;
      const link = el("a", { href: URL.createObjectURL(new Blob([toCsv(ctx, report)], { type: "text/csv;charset=utf-8" })),
                             download: `figures-${site.value}-${report.month}-${ctx.locale}.csv` });
      document.body.append(link);
      link.click();
      link.remove();
    });
    await load();
    return () => plot?.destroy();
  },
};
