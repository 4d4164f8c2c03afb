// facmon operations console: loads alarms, work orders and forecasts, then follows the live event stream.
"use strict";

const API = "api/v1";
const TOKEN_KEY = "facmon.token";
const SEVERITY_ORDER = { critical: 0, high: 1, medium: 2, low: 3 };
const PRIORITY_ORDER = { emergency: 0, urgent: 1, normal: 2, planned: 3 };
const LABELS = { rtn_unacknowledged: "cleared, not acknowledged", in_progress: "in progress", on_site: "on site", followed_up: "followed up" };

const state = { token: null, assets: new Map(), alarms: new Map(), orders: new Map(), forecasts: new Map() };
const $ = (selector) => document.querySelector(selector);

// --- token and requests --------------------------------------------------------------------------

function readToken() {
  const match = location.hash.match(/token=([^&]+)/);
  if (match) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname + location.search); // keep it out of the address bar
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

class Unauthorized extends Error {}

async function call(path, options = {}) {
  const headers = { Accept: "application/json", ...(options.body ? { "Content-Type": "application/json" } : {}) };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  const response = await fetch(`${API}/${path}`, { ...options, headers });
  if (response.status === 401) throw new Unauthorized();
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.detail || `${response.status} ${response.statusText}`);
  return body;
}

// --- formatting ----------------------------------------------------------------------------------

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

function time(iso) {
  if (!iso) return "";
  const text = iso.replace("T", " ").slice(0, 16) + " UTC"; // times are simulated under the demo: show them as-is
  return el("time", { datetime: iso }, text);
}

function assetCell(assetId) {
  if (!assetId) return "—";
  const asset = state.assets.get(assetId);
  return asset ? el("span", { title: assetId }, asset.name) : assetId;
}

function badge(kind, value) {
  return el("span", { class: `badge ${kind}-${value}` }, LABELS[value] || value);
}

function emptyRow(columns, text) {
  return el("tr", { class: "empty" }, el("td", { colspan: String(columns) }, text));
}

// --- rendering -----------------------------------------------------------------------------------

// Shelved, suppressed and out-of-service alarms are flagged (ISA-18.2); suppressed ones are listed
// under the alarm that explains them (a site power cut), muted ones sink below the rest.
const muted = (alarm) => Boolean(alarm.shelved_until || alarm.suppressed_by || alarm.out_of_service);

function markers(alarm, children) {
  const found = [];
  if (alarm.shelved_until) found.push(["shelved", `shelved until ${alarm.shelved_until.slice(0, 16).replace("T", " ")}`]);
  if (alarm.suppressed_by) found.push(["suppressed", `suppressed by #${alarm.suppressed_by}`]);
  if (alarm.out_of_service) found.push(["out-of-service", "out of service"]);
  if (alarm.chattering) found.push(["chattering", "chattering"]);
  if (children.length) found.push(["grouped", `${children.length} suppressed below`]);
  return found.map(([kind, text]) => el("span", { class: `marker marker-${kind}`, title: kind === "out-of-service"
    ? alarm.out_of_service : text }, text));
}

function shelveButton(alarm) {
  const shelved = Boolean(alarm.shelved_until);
  const button = el("button", { type: "button", class: "shelve" }, shelved ? "Unshelve" : "Shelve 8 h");
  button.addEventListener("click", () => shelve(alarm, button));
  return button;
}

function alarmRow(alarm, children, cause) {
  const button = el("button", { type: "button", class: "ack" }, "Acknowledge");
  button.disabled = !alarm.state.endsWith("unacknowledged");
  button.addEventListener("click", () => acknowledge(alarm.id, button));
  const attributes = { "data-alarm-id": String(alarm.id), "data-severity": alarm.severity };
  if (cause) Object.assign(attributes, { class: "suppressed", "data-suppressed-by": String(cause.id) });
  return el("tr", attributes,
    el("td", {}, badge("severity", alarm.severity)), el("td", {}, assetCell(alarm.asset_id)),
    el("td", {}, alarm.site_id), el("td", {}, cause ? "↳ " : "", alarm.message, " ", ...markers(alarm, children)),
    el("td", {}, time(alarm.started_at)), el("td", { class: "alarm-state" }, badge("state", alarm.state)),
    el("td", { class: "actions" }, button, " ", shelveButton(alarm)));
}

function renderAlarms() {
  const all = [...state.alarms.values()];
  const order = (a, b) => Number(muted(a)) - Number(muted(b)) ||
    SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || b.started_at.localeCompare(a.started_at);
  const under = (cause) => all.filter((alarm) => alarm.suppressed_by === cause.id).sort(order);
  const top = all.filter((alarm) => !alarm.suppressed_by || !state.alarms.has(alarm.suppressed_by)).sort(order);
  const rows = top.flatMap((alarm) => {
    const children = under(alarm);
    return [alarmRow(alarm, children, null), ...children.map((child) => alarmRow(child, [], alarm))];
  });
  $("#alarms tbody").replaceChildren(...(rows.length ? rows : [emptyRow(7, "No alarms need attention.")]));
  $("#alarm-count").textContent = `(${top.filter((alarm) => !muted(alarm)).length})`;
}

function renderOrders() {
  const orders = [...state.orders.values()].sort((a, b) =>
    PRIORITY_ORDER[a.priority] - PRIORITY_ORDER[b.priority] || a.due_at.localeCompare(b.due_at));
  const rows = orders.map((order) => el("tr", { "data-workorder-id": String(order.id) },
    el("td", {}, badge("priority", order.priority)), el("td", {}, badge("status", order.status)),
    el("td", {}, order.title), el("td", {}, assetCell(order.asset_id)), el("td", {}, time(order.due_at))));
  $("#workorders tbody").replaceChildren(...(rows.length ? rows : [emptyRow(5, "No open work orders.")]));
  $("#workorder-count").textContent = `(${orders.length})`;
}

function renderForecasts() {
  const forecasts = [...state.forecasts.values()].sort((a, b) => a.health - b.health);
  const rows = forecasts.map((forecast) => {
    const percent = Math.round(forecast.health);  // health is 0-100 since schema 0006
    const meter = el("meter", { min: "0", max: "100", low: "40", high: "70", optimum: "100",
      value: String(forecast.health), "aria-label": `health ${percent}%` });
    const drivers = (forecast.drivers || []).map((d) => d.text).join("; ");
    if (drivers) meter.title = drivers;
    return el("tr", { "data-asset-id": forecast.asset_id }, el("td", {}, assetCell(forecast.asset_id)),
      el("td", { class: "health" }, meter, ` ${percent}%`), el("td", {}, remainingLife(forecast)));
  });
  $("#forecasts tbody").replaceChildren(...(rows.length ? rows : [emptyRow(3, "No forecasts yet.")]));
}

function remainingLife(forecast) {
  if (forecast.rul_days == null) return "—";
  const median = `${forecast.rul_days.toFixed(0)} days`;
  if (forecast.rul_p10_days == null || forecast.rul_p90_days == null) return median;
  return `${median} (P10 ${forecast.rul_p10_days.toFixed(0)}, P90 ${forecast.rul_p90_days.toFixed(0)})`;
}

function notify(text) {
  const notice = $("#notice");
  notice.textContent = text;
  notice.hidden = !text;
}

// --- data ----------------------------------------------------------------------------------------

// Active alarms, and those that returned to normal before anyone acknowledged them (ISA-18.2).
const needsAttention = (alarm) => alarm.state !== "normal";

function keep(map, key, record, wanted) {
  if (wanted) map.set(key, record);
  else map.delete(key);
}

async function loadAll() {
  const [assets, alarms, orders, forecasts] = await Promise.all([
    call("assets"), call("alarms?limit=500"), call("workorders?open_only=true&limit=500"), call("forecasts")]);
  state.assets = new Map(assets.map((a) => [a.id, a]));
  state.alarms = new Map(alarms.items.filter(needsAttention).map((a) => [a.id, a]));
  state.orders = new Map(orders.items.map((o) => [o.id, o]));
  state.forecasts = new Map(forecasts.map((f) => [f.asset_id, f]));
  renderAlarms(); renderOrders(); renderForecasts();
  await refreshPlan();
}

async function refreshAlarm(id, raised) {
  const alarm = await call(`alarms/${id}`);
  keep(state.alarms, alarm.id, alarm, needsAttention(alarm));
  renderAlarms();
  if (raised) {
    const asset = state.assets.get(alarm.asset_id);
    $("#announcer").textContent = `New ${alarm.severity} alarm on ${asset ? asset.name : alarm.asset_id}: ${alarm.message}`;
  }
}

async function refreshOrder(id) {
  const order = await call(`workorders/${id}`);
  keep(state.orders, order.id, order, !["closed", "cancelled"].includes(order.status));
  renderOrders();
}

async function refreshForecasts() {
  state.forecasts = new Map((await call("forecasts")).map((f) => [f.asset_id, f]));
  renderForecasts();
}

async function acknowledge(id, button) {
  button.disabled = true;
  try {
    const alarm = await call(`alarms/${id}/acknowledge`, { method: "POST", body: JSON.stringify({ actor: "console" }) });
    keep(state.alarms, alarm.id, alarm, needsAttention(alarm));
    renderAlarms();
    notify("");
  } catch (error) {
    notify(`Could not acknowledge alarm ${id}: ${error.message}`);
    button.disabled = false;
  }
}

// Shelving (ISA-18.2) asks for a reason; the shelf ends after 8 hours of service time by itself.
async function shelve(alarm, button) {
  const unshelving = Boolean(alarm.shelved_until);
  const reason = unshelving ? "" : window.prompt(`Why shelve alarm ${alarm.id} for 8 hours?`);
  if (!unshelving && !reason) return;
  button.disabled = true;
  const body = unshelving ? { actor: "console" } : { actor: "console", reason, for_s: 8 * 3600 };
  try {
    const updated = await call(`alarms/${alarm.id}/${unshelving ? "unshelve" : "shelve"}`,
      { method: "POST", body: JSON.stringify(body) });
    keep(state.alarms, updated.id, updated, needsAttention(updated));
    renderAlarms();
    notify("");
  } catch (error) {
    notify(`Could not ${unshelving ? "unshelve" : "shelve"} alarm ${alarm.id}: ${error.message}`);
    button.disabled = false;
  }
}

// --- live updates --------------------------------------------------------------------------------

// --- the maintenance plan ------------------------------------------------------------------------

// The first open tasks by day, each with its reasons; a service without a planner answers 503: no section.
const PLAN_QUERY = "plan-tasks?status=proposed&status=accepted&status=moved&limit=25";
let planRefresh = null;

async function refreshPlan() {
  let page;
  try {
    page = await call(PLAN_QUERY);
  } catch (error) {
    if (error instanceof Unauthorized) throw error;
    $("#plan").closest("section").hidden = true;
    return;
  }
  $("#plan").closest("section").hidden = false;
  const rows = page.items.map((task) => el("tr", { "data-plan-task-id": String(task.id) },
    el("td", {}, task.planned_date), el("td", {}, task.technician_id || "—"), el("td", {}, assetCell(task.asset_id)),
    el("td", {}, task.task), el("td", {}, badge("status", task.status)), el("td", { class: "why" }, task.explanation)));
  $("#plan tbody").replaceChildren(...(rows.length ? rows : [emptyRow(6, "Nothing planned yet.")]));
  $("#plan-count").textContent = `(${page.total})`;
}

// A re-plan opens or moves many planned orders at once: refresh the plan once after the burst.
function planChanged(order) {
  if (order.source !== "planned" || planRefresh) return;
  planRefresh = setTimeout(() => {
    planRefresh = null;
    refreshPlan().catch((error) => notify(`Could not load the plan: ${error.message}`));
  }, 1000);
}

function setLink(linkState, text) {
  const link = $("#link");
  link.dataset.state = linkState;
  link.textContent = text;
}

function follow() {
  const source = new EventSource(`${API}/events?token=${encodeURIComponent(state.token || "")}`);
  const handle = (refresh) => (message) => {
    const data = JSON.parse(message.data);
    refresh(data).catch((error) => notify(`Live update failed: ${error.message}`));
  };
  let reconnecting = false;
  source.addEventListener("open", () => {
    setLink("live", "live");
    if (reconnecting) loadAll().catch((error) => notify(`Could not reload: ${error.message}`)); // missed events
  });
  source.addEventListener("error", () => { reconnecting = true; setLink("down", "reconnecting…"); });
  source.addEventListener("alarm.raised", handle((data) => refreshAlarm(data.id, true)));
  source.addEventListener("alarm.changed", handle((data) => refreshAlarm(data.id, false)));
  source.addEventListener("workorder.opened", handle((data) => { planChanged(data); return refreshOrder(data.id); }));
  source.addEventListener("workorder.changed", handle((data) => { planChanged(data); return refreshOrder(data.id); }));
  source.addEventListener("forecast.updated", handle(() => refreshForecasts()));
}

// --- start ---------------------------------------------------------------------------------------

async function start() {
  try {
    await loadAll();
  } catch (error) {
    if (error instanceof Unauthorized) return askForToken(state.token ? "That token was refused." : "");
    notify(`Could not load: ${error.message}`);
  }
  $("#login").hidden = true;
  $("#board").hidden = false;
  follow();
}

function askForToken(message) {
  $("#board").hidden = true;
  $("#login").hidden = false;
  $("#login-error").textContent = message;
  setLink("down", "signed out");
  $("#token-input").focus();
}

$("#login").addEventListener("submit", (event) => {
  event.preventDefault();
  state.token = $("#token-input").value.trim();
  sessionStorage.setItem(TOKEN_KEY, state.token);
  start();
});

state.token = readToken();
start();
