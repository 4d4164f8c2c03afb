// Hash routes: "#/alarms/42?state=open" → the screen whose path is "#/alarms", rest ["42"], query {state}.

export function parseHash(hash = location.hash) {
  const [path, search = ""] = (hash || "").replace(/^#/, "").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { parts, query: Object.fromEntries(new URLSearchParams(search)) };
}

/** Whether the signed-in identity may open `screen` (`public` screens: anyone, signed in or not). */
export function allowed(screen, me) {
  if (screen.public) return true;
  if (!me) return false;
  return (screen.roles || []).some((role) => me.roles.includes(role));
}

/** The screen for `hash` among `screens` (none: null), with the route's rest and query. */
export function match(screens, hash = location.hash) {
  const { parts, query } = parseHash(hash);
  let best = null;
  for (const screen of screens) {
    const own = parseHash(screen.path).parts;
    if (own.length > parts.length || own.some((part, i) => part !== parts[i])) continue;
    if (!best || own.length > best.length) best = { screen, length: own.length };
  }
  return best ? { screen: best.screen, rest: parts.slice(best.length), query } : null;
}

/** "#/orders" + {id: 3} → "#/orders?id=3" (empty values dropped). */
export function href(path, query = {}) {
  const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== null && v !== undefined && v !== ""));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}
