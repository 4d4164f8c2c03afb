// Planner: the maintenance plan as a month calendar (a list of days on a phone); each task opens its reasons
// and the decisions: accept, move (another day, maybe another technician, with a reason), reject (with a
// reason). Beside it, the least healthy assets, each a link to its asset page (charts and forecasts).

import { itemsOf } from "../lib/api.js";
import { el, field, replace } from "../lib/dom.js";

const SHOWN = ["proposed", "accepted", "moved", "done"];
const DAY_MS = 86_400_000;
const RISK_COUNT = 8;

const iso = (ms) => new Date(ms).toISOString().slice(0, 10);
const dayMs = (text) => Date.parse(`${text}T00:00:00Z`);

/** The Monday-first weeks covering the month of `monthStart` (UTC midnight ms), as lists of ISO days. */
export function monthGrid(monthStart) {
  const first = new Date(monthStart);
  const offset = (first.getUTCDay() + 6) % 7;
  const start = monthStart - offset * DAY_MS;
  const next = Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 1);
  const weeks = [];
  for (let week = start; week < next; week += 7 * DAY_MS) {
    weeks.push(Array.from({ length: 7 }, (_, i) => iso(week + i * DAY_MS)));
  }
  return weeks;
}

async function allTasks(ctx, since, until) {
  const items = [];
  let cursor = null;
  do {
    const page = await ctx.api("plan-tasks", { query: { since, until, status: SHOWN, limit: 500, cursor } });
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

function decisionForm(ctx, task, kind, done) {
  const t = ctx.t;
  const reason = el("textarea", { name: "reason", required: true, maxlength: 2000 });
  const day = el("input", { type: "date", name: "planned_date", value: task.planned_date, required: true });
  const technician = el("input", { name: "technician_id", value: task.technician_id || "", maxlength: 80 });
  const error = el("p", { class: "error", role: "alert" });
  const form = el("form", { class: "decision", novalidate: true },
    kind === "move" ? [field(t("planner:move.day"), day), field(t("planner:move.technician"), technician)] : null,
    field(t("planner:reason"), reason),
    el("button", { type: "submit", class: kind === "reject" ? "danger" : "primary" }, t(`planner:${kind}.submit`)),
    error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!reason.value.trim()) {
      error.textContent = t("planner:reason_needed");
      return;
    }
    const body = { reason: reason.value.trim(), expected_status: task.status };
    if (kind === "move") Object.assign(body, { planned_date: day.value, technician_id: technician.value.trim() || null });
    try {
      await ctx.api(`plan-tasks/${task.id}/${kind}`, { method: "POST", body });
      ctx.notify(t(`planner:${kind}.done`, { task: task.task }));
      done();
    } catch (failure) {
      error.textContent = ctx.describe(failure);
    }
  });
  return form;
}

function details(ctx, task, done) {
  const t = ctx.t;
  const slot = el("div");
  const money = (value) => new Intl.NumberFormat(ctx.locale, { maximumFractionDigits: 0 }).format(value);
  const actions = [];
  if (task.status === "proposed") {
    actions.push(el("button", { type: "button", class: "primary", onclick: async () => {
      try {
        await ctx.api(`plan-tasks/${task.id}/accept`, { method: "POST", body: { expected_status: task.status } });
        ctx.notify(t("planner:accept.done", { task: task.task }));
        done();
      } catch (failure) { ctx.notify(ctx.describe(failure), "error"); }
    } }, t("planner:accept.submit")));
  }
  if (["proposed", "accepted", "moved"].includes(task.status)) {
    for (const kind of ["move", "reject"]) {
      actions.push(el("button", { type: "button", onclick: () => {
        replace(slot, decisionForm(ctx, task, kind, done));
        slot.querySelector("input, textarea").focus();
      } }, t(`planner:${kind}.open`)));
    }
  }
  return el("section", { class: "task-details", "aria-live": "polite", "data-task-id": task.id },
    el("h3", {}, task.task),
    el("dl", {},
      el("dt", {}, t("planner:asset")), el("dd", {}, el("a", { href: `#/asset/${encodeURIComponent(task.asset_id)}` },
        task.asset_id)),
      el("dt", {}, t("planner:day")), el("dd", {}, ctx.formatTime(`${task.planned_date}T12:00:00Z`, task.site_id, "date")),
      el("dt", {}, t("planner:technician")), el("dd", {}, task.technician_id || "—"),
      el("dt", {}, t("planner:status_label")), el("dd", {}, t(`planner:status.${task.status}`)),
      el("dt", {}, t("planner:hours")), el("dd", {}, String(task.hours)),
      el("dt", {}, t("planner:costs")), el("dd", {}, t("planner:costs_value", {
        planned: money(task.planned_cost), failure: money(task.expected_failure_cost) })),
      el("dt", {}, t("planner:why")), el("dd", {}, task.explanation),
      task.move_reason ? [el("dt", {}, t("planner:decision")), el("dd", {}, task.move_reason)] : null),
    el("div", { class: "actions" }, actions), slot);
}

function calendar(ctx, weeks, month, tasks, open) {
  const byDay = Map.groupBy ? Map.groupBy(tasks, (task) => task.planned_date)
    : tasks.reduce((map, task) => map.set(task.planned_date, [...(map.get(task.planned_date) || []), task]), new Map());
  const weekday = new Intl.DateTimeFormat(ctx.locale, { weekday: "short", timeZone: "UTC" });
  const dayLabel = new Intl.DateTimeFormat(ctx.locale, { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
  const head = el("div", { class: "cal-head", "aria-hidden": "true" },
    weeks[0].map((day) => el("span", {}, weekday.format(new Date(dayMs(day))))));
  const today = iso(Date.now());
  const cells = weeks.flat().map((day) => {
    const own = byDay.get(day) || [];
    const outside = day.slice(0, 7) !== month;
    return el("div", { class: `cal-day${outside ? " outside" : ""}${own.length ? "" : " empty"}${day === today ? " today" : ""}`,
      "data-day": day },
      el("span", { class: "cal-date" }, dayLabel.format(new Date(dayMs(day)))),
      own.map((task) => el("button", { type: "button", class: `task-chip status-${task.status}`, "data-task-id": task.id,
        "aria-label": `${task.asset_id}: ${task.task} (${ctx.t(`planner:status.${task.status}`)})`,
        onclick: () => open(task) }, `${task.asset_id} · ${task.task}`)));
  });
  return el("div", { class: "calendar" }, head, el("div", { class: "cal-grid" }, cells));
}

async function risks(ctx) {
  try {
    const list = itemsOf(await ctx.api("forecasts", { query: { limit: 500 } }));
    const worst = [...list].sort((a, b) => a.health - b.health).slice(0, RISK_COUNT);
    if (!worst.length) return null;
    return el("section", { class: "risks" }, el("h3", {}, ctx.t("planner:risks")),
      el("ol", {}, worst.map((f) => el("li", {},
        el("a", { href: `#/asset/${encodeURIComponent(f.asset_id)}` }, f.asset_id), " ",
        ctx.t("planner:risk_line", { health: Math.round(f.health), days: f.rul_days === null ? "—" : Math.round(f.rul_days) })))));
  } catch {
    return null;
  }
}

export default {
  id: "planner",
  path: "#/plan",
  roles: ["planner", "admin"],
  titleKey: "planner:title",
  namespace: "planner",
  async render(root, ctx) {
    await ctx.css("screens/field.css");
    const t = ctx.t;
    const now = new Date();
    const chosen = /^\d{4}-\d{2}$/.test(ctx.route.query.month || "") ? ctx.route.query.month : iso(now.getTime()).slice(0, 7);
    const monthStart = dayMs(`${chosen}-01`);
    const shift = (months) => {
      const date = new Date(monthStart);
      return iso(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1)).slice(0, 7);
    };
    const weeks = monthGrid(monthStart);
    const title = new Intl.DateTimeFormat(ctx.locale, { year: "numeric", month: "long", timeZone: "UTC" })
      .format(new Date(monthStart));
    const panel = el("div", { class: "task-panel" }, el("p", { class: "hint" }, t("planner:pick")));
    const body = el("div", { class: "plan-body" });
    replace(root, el("section", { class: "field-screen planner" },
      el("div", { class: "toolbar" },
        el("a", { class: "button", href: `#/plan?month=${shift(-1)}`, "aria-label": t("planner:previous") }, "‹"),
        el("h2", {}, t("planner:title"), " · ", title),
        el("a", { class: "button", href: `#/plan?month=${shift(1)}`, "aria-label": t("planner:next") }, "›"),
        el("a", { class: "button", href: "#/plan" }, t("planner:today"))),
      el("div", { class: "plan-layout" }, body, el("aside", {}, panel))));
    let openId = null;
    async function reload() {
      const tasks = await allTasks(ctx, weeks[0][0], weeks.at(-1)[6]);
      const open = (task) => {
        openId = task.id;
        replace(panel, details(ctx, task, reload));
        panel.querySelector("button")?.focus();
      };
      replace(body, calendar(ctx, weeks, chosen, tasks, open),
        tasks.length ? null : el("p", { class: "empty" }, t("planner:empty")));
      const again = tasks.find((task) => task.id === openId);
      replace(panel, again ? details(ctx, again, reload) : el("p", { class: "hint" }, t("planner:pick")));
      const risky = await risks(ctx);
      if (risky) panel.append(risky);
    }
    // A decision elsewhere changes the task's planned order: its events are the plan's live signal.
    ctx.on("workorder.", () => reload());
    ctx.on("plan", () => reload());
    await reload();
  },
};
