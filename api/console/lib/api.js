// Calls to /api/v1 with the session cookie and the CSRF header; errors as ApiError carrying the problem.

const BASE = "api/v1/";
const CSRF_COOKIE = "facmon_csrf";
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** An error answer of the API: `status`, and `problem` (RFC 9457: type, title, status, detail, errors?). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }

  /** Field errors of a validation problem as {field: message}. */
  fieldErrors() {
    const found = {};
    for (const error of this.problem.errors || []) {
      const where = error.pointer || error.loc || error.field || "";
      const name = Array.isArray(where) ? where[where.length - 1] : String(where).split("/").pop();
      found[name] = error.detail || error.msg || error.message || "";
    }
    return found;
  }
}

export function csrfToken() {
  const prefix = `${CSRF_COOKIE}=`;
  const cookie = document.cookie.split("; ").find((part) => part.startsWith(prefix));
  return cookie ? decodeURIComponent(cookie.slice(prefix.length)) : null;
}

/** The path with its query parameters (null/undefined/"" skipped, arrays repeated). */
export function withQuery(path, query = {}) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === null || value === undefined || value === "") continue;
    for (const one of Array.isArray(value) ? value : [value]) params.append(name, String(one));
  }
  const text = params.toString();
  return text ? `${path}${path.includes("?") ? "&" : "?"}${text}` : path;
}

/** Make the `api(path, {method, body, query, raw})` function of a console. `onUnauthorized()` runs on a 401
 * (the shell shows the sign-in page). `raw: true` returns the Response (for CSV and other files). */
export function makeApi(onUnauthorized) {
  return async function api(path, { method = "GET", body, query, raw = false, headers = {} } = {}) {
    const sent = { Accept: "application/json, application/problem+json", ...headers };
    const upper = method.toUpperCase();
    if (UNSAFE.has(upper)) {
      const token = csrfToken();
      if (token) sent["X-CSRF-Token"] = token;
    }
    let payload = body;
    if (body !== undefined && !(body instanceof FormData) && !(body instanceof Blob)) {
      sent["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const response = await fetch(withQuery(BASE + path.replace(/^\//, ""), query),
      { method: upper, body: payload, headers: sent, credentials: "same-origin" });
    if (!response.ok) {
      const problem = await response.json().catch(() => ({ title: response.statusText, status: response.status }));
      if (response.status === 401) onUnauthorized(problem);
      throw new ApiError(response.status, problem);
    }
    if (raw) return response;
    if (response.status === 204) return null;
    const type = response.headers.get("Content-Type") || "";
    return type.includes("json") ? response.json() : response.text();
  };
}

/** The items of a list answer: a Page {items, total, next_cursor} or (older routes) a bare list. */
export function itemsOf(answer) {
  if (Array.isArray(answer)) return answer;
  return answer && Array.isArray(answer.items) ? answer.items : [];
}

/** {items, total, next_cursor} of a list answer, whichever shape it came in. */
export function pageOf(answer) {
  if (Array.isArray(answer)) return { items: answer, total: answer.length, next_cursor: null };
  const items = itemsOf(answer);
  return { items, total: answer?.total ?? items.length, next_cursor: answer?.next_cursor ?? null };
}
