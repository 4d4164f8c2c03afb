// The sign-in page: username and password (POST /api/v1/auth/login), and "sign in with SSO" when the
// service has an OIDC provider configured (GET /api/v1/auth/options gives its label and URL).

import { el, replace } from "./dom.js";

async function options() {
  try {
    const response = await fetch("api/v1/auth/options", { headers: { Accept: "application/json" } });
    return response.ok ? await response.json() : {};
  } catch {
    return {};
  }
}

async function postLogin(username, password) {
  const response = await fetch("api/v1/auth/login", {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ username, password }),
  });
  const body = await response.json().catch(() => ({}));
  return { status: response.status, body, retryAfter: response.headers.get("Retry-After") };
}

function refusal(t, { status, body, retryAfter }) {
  if (status === 401) return t("signin.refused");
  if (status === 429) return t("signin.locked", { seconds: Number(retryAfter) || 60 });
  if (status === 422) return t("signin.incomplete");
  return body.detail || t("errors.unexpected", { status });
}

/** Show the sign-in form in `root`; resolves `onSignedIn(me)` once the server accepted the credentials. */
export async function renderSignIn(root, { t, onSignedIn, reason = null }) {
  const message = el("p", { class: "error", role: "alert", id: "signin-error" }, reason || "");
  const username = el("input", { name: "username", autocomplete: "username", required: true, id: "signin-user" });
  const password = el("input", { name: "password", type: "password", autocomplete: "current-password",
                                 required: true, id: "signin-password" });
  const submit = el("button", { type: "submit", class: "primary" }, t("signin.submit"));
  const form = el("form", { class: "signin card", novalidate: true },
    el("h1", {}, t("signin.title")),
    el("p", { class: "muted" }, t("signin.intro")),
    el("label", { for: "signin-user" }, t("signin.username")), username,
    el("label", { for: "signin-password" }, t("signin.password")), password,
    submit, message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!username.value || !password.value) {
      message.textContent = t("signin.incomplete");
      return;
    }
    submit.disabled = true;
    message.textContent = "";
    try {
      const answer = await postLogin(username.value.trim(), password.value);
      if (answer.status === 200) {
        password.value = "";
        onSignedIn(answer.body.user);
        return;
      }
      message.textContent = refusal(t, answer);
      password.select();
    } catch {
      message.textContent = t("errors.network");
    } finally {
      submit.disabled = false;
    }
  });
  replace(root, el("div", { class: "signin-page" }, form));
  username.focus();
  const { oidc_url: url, oidc_label: label } = await options();
  if (url) {
    form.append(el("div", { class: "sso" }, el("span", { class: "muted" }, t("signin.or")),
      el("a", { class: "button", href: url.replace(/^\//, ""), id: "signin-sso" },
        label ? t("signin.ssoNamed", { name: label }) : t("signin.sso"))));
  }
}
