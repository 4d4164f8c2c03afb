// The residents' form behind a QR code (/request?site=<id> or ?asset=<id>): a repair request or a complaint.
// Filed through /api/v1/resident/..., signed in or not (signed in, the session cookie makes it the user's
// own). The answer's follow link is shown once: only its hash is kept.

import { api, explain, rt, startPage } from "./resident-page.js";

const $ = (selector) => document.querySelector(selector);
const query = new URLSearchParams(window.location.search);
const CATEGORIES = ["noise", "cleanliness", "safety", "repair_quality", "response_time", "service_attitude",
  "fees", "other"];
let kind = "request";
let place = null;

function setKind(chosen) {
  kind = chosen;
  $("#kind-request").setAttribute("aria-pressed", String(kind === "request"));
  $("#kind-complaint").setAttribute("aria-pressed", String(kind === "complaint"));
  $("#request-fields").hidden = kind !== "request";
  $("#complaint-fields").hidden = kind !== "complaint";
  drawTexts();
}

function drawTexts() {
  $("#description-label").textContent = rt(kind === "request" ? "form.description" : "form.complaint_description");
  $("#send").textContent = rt(kind === "request" ? "form.send" : "form.send_complaint");
  const chosen = $("#category").value || "noise";
  $("#category").replaceChildren(...CATEGORIES.map((name) =>
    new Option(rt(`category.${name}`), name, false, name === chosen)));
}

function value(name) {
  return String($(`#${name}`).value || "").trim();
}

function body() {
  const common = { channel: "mobile", description: value("description") };
  if (kind === "complaint") {
    return { ...common, site_id: place.site_id, category: $("#category").value, complainant: value("requester"),
      phone: value("phone") || null };
  }
  return { ...common, site_id: place.site_id, asset_id: place.asset_id, requester: value("requester"),
    phone: value("phone"), address: value("address") };
}

function missing() {
  const needed = kind === "request" ? ["requester", "phone", "address", "description"] : ["requester", "description"];
  return needed.filter((name) => !value(name)).map((name) => rt(`missing.${name}`));
}

async function send(event) {
  event.preventDefault();
  const lacking = missing();
  if (lacking.length) {
    $("#error").textContent = rt("error.missing", { fields: lacking.join(rt("error.list_separator")) });
    return;
  }
  $("#send").disabled = true;
  $("#error").textContent = "";
  const path = `resident/${kind === "request" ? "requests" : "complaints"}`;
  try {
    const filed = await api(path, { method: "POST", body: body() });
    $("#order-number").textContent = String(filed.progress.id);
    const link = $("#follow-link");
    link.href = filed.follow_url;
    link.textContent = filed.follow_url;
    $("#request-form").hidden = true;
    $("#receipt").hidden = false;
  } catch (error) {
    $("#error").textContent = rt("error.not_sent", { reason: explain(error) });
    $("#send").disabled = false;
  }
}

async function main() {
  await startPage("form.title", drawTexts);
  const site = query.get("site");
  const asset = query.get("asset");
  try {
    place = await api("resident/place", { query: { site, asset } });
  } catch {
    $("#unknown").hidden = false;
    return;
  }
  $("#site-name").textContent = place.site_name;
  if (place.asset_name) {
    $("#asset-name").textContent = place.asset_name;
    $("#asset-line").hidden = false;
  }
  $("#kind-request").addEventListener("click", () => setKind("request"));
  $("#kind-complaint").addEventListener("click", () => setKind("complaint"));
  $("#request-form").addEventListener("submit", send);
  setKind(query.get("kind") === "complaint" ? "complaint" : "request");
  $("#request-form").hidden = false;
}

main();
