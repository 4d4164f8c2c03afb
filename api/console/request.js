// The residents' repair form: posts to /api/v1/requests (open for web and mobile requests) and shows the
// order number. The site comes from the link on the building's notice board: /request?site=<id>.

const $ = (selector) => document.querySelector(selector);
const site = new URLSearchParams(window.location.search).get("site");

function fail(message) {
  $("#error").textContent = message;
}

function fields(form) {
  const data = Object.fromEntries(new FormData(form).entries());
  const body = { channel: "mobile", site_id: site };
  for (const name of ["requester", "phone", "address", "description"]) {
    body[name] = String(data[name] || "").trim();
  }
  return body;
}

function missing(body) {
  const labels = { requester: "your name", phone: "your phone", address: "the flat or place",
    description: "what needs repair" };
  return Object.keys(labels).filter((name) => !body[name]).map((name) => labels[name]);
}

// The server answers 422 with a detail that is a string (a business rule) or a list (field checks).
function explain(detail) {
  if (Array.isArray(detail)) return detail.map((item) => item.msg).join("; ");
  return String(detail || "the request could not be sent");
}

async function send(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const body = fields(form);
  const lacking = missing(body);
  if (lacking.length) {
    fail(`Please give ${lacking.join(", ")}.`);
    return;
  }
  const button = $("#send");
  button.disabled = true;
  fail("");
  try {
    const response = await fetch("/api/v1/requests", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(explain(answer.detail));
    $("#order-number").textContent = String(answer.id);
    form.hidden = true;
    $("#receipt").hidden = false;
  } catch (error) {
    fail(`Not sent: ${error.message}. Please try again, or call the service desk.`);
    button.disabled = false;
  }
}

if (site) {
  $("#site-name").textContent = site;
  $("#request-form").addEventListener("submit", send);
} else {
  $("#send").disabled = true;
  fail("This form must be opened from the link or QR code on your building's notice board.");
}
