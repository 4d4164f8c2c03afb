// Times in the site's time zone (IANA, from GET /api/v1/sites), in the console's language.

const formatters = new Map();

function formatter(locale, timeZone, style) {
  const key = `${locale}|${timeZone}|${style}`;
  if (!formatters.has(key)) {
    const options = style === "date" ? { dateStyle: "medium" }
      : { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
          timeZoneName: "short" };
    try {
      formatters.set(key, new Intl.DateTimeFormat(locale, { ...options, timeZone }));
    } catch { // an unknown zone name: UTC, which the zone name shown then says
      formatters.set(key, new Intl.DateTimeFormat(locale, { ...options, timeZone: "UTC" }));
    }
  }
  return formatters.get(key);
}

/** A formatTime(iso, siteId, style) bound to the sites and the current language. */
export function makeFormatTime(sites, locale, defaultZone = "UTC") {
  return function formatTime(iso, siteId = null, style = "datetime") {
    if (!iso) return "";
    const when = new Date(iso);
    if (Number.isNaN(when.getTime())) return String(iso);
    const zone = (siteId && sites[siteId]?.time_zone) || defaultZone;
    return formatter(locale(), zone, style).format(when);
  };
}

/** A <time> element showing `iso` formatted, its machine value in `datetime`. */
export function timeElement(formatTime, iso, siteId = null) {
  const node = document.createElement("time");
  if (iso) node.dateTime = iso;
  node.textContent = formatTime(iso, siteId);
  return node;
}

/** "2 h 05 min" style duration from seconds (negative: the same, the caller says "overdue"). */
export function formatDuration(seconds, t) {
  const total = Math.round(Math.abs(seconds) / 60);
  const days = Math.floor(total / 1440);
  const hours = Math.floor((total % 1440) / 60);
  const minutes = total % 60;
  if (days) return t("common:duration.dh", { d: days, h: hours });
  if (hours) return t("common:duration.hm", { h: hours, m: String(minutes).padStart(2, "0") });
  return t("common:duration.m", { m: minutes });
}
