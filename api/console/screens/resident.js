// A signed-in resident: what they filed (requests and complaints) with progress, a rating once done, and the
// form to file another (the same page a building's QR code opens).

import { el, replace } from "../lib/dom.js";

function rating(ctx, item, reload) {
  const t = ctx.t;
  const buttons = [1, 2, 3, 4, 5].map((score) => el("button", {
    type: "button", "aria-label": t(`resident:score.${score}`), "data-score": score,
    onclick: async () => {
      try {
        await ctx.api(`me/filed/${item.kind}/${item.id}/rating`, { method: "POST", body: { satisfaction: score } });
        reload();
      } catch (error) { ctx.notify(ctx.describe(error), "error"); }
    } }, "★".repeat(score)));
  return el("div", { class: "rate", role: "group", "aria-label": t("resident:follow.rate") },
    el("p", {}, t("resident:follow.rate")), el("div", { class: "actions" }, buttons));
}

function card(ctx, item, reload) {
  const t = ctx.t;
  const done = item.milestones.filter((m) => m.at);
  const last = done.at(-1);
  return el("article", { class: "order-card", "data-kind": item.kind, "data-id": item.id },
    el("header", {}, el("span", { class: "order-number" }, `${t(`resident:kind.${item.kind}`)} #${item.id}`),
      el("span", { class: "badge status" }, t(item.cancelled ? "resident:follow.cancelled" : `resident:status.${item.status}`))),
    el("h3", {}, item.kind === "complaint" ? t(`resident:category.${item.title}`) : item.title),
    last ? el("p", { class: "hint" }, `${t(`resident:step.${last.step}`)} · ${ctx.formatTime(last.at, item.site_id)}`) : null,
    item.answer ? el("p", {}, el("strong", {}, t("resident:follow.answer")), ": ", item.answer) : null,
    item.can_rate ? rating(ctx, item, reload) : null,
    item.satisfaction === null ? null : el("p", {}, t("resident:follow.rated", { score: item.satisfaction })));
}

export default {
  id: "resident",
  path: "#/mine",
  roles: ["resident"],
  titleKey: "resident:mine.title",
  namespace: "resident",
  async render(root, ctx) {
    await ctx.css("screens/field.css");
    const t = ctx.t;
    const list = el("div", { class: "order-cards", "aria-live": "polite" });
    const sites = ctx.me.sites || [];
    replace(root, el("section", { class: "field-screen" },
      el("h2", {}, t("resident:mine.title")),
      el("div", { class: "actions" }, sites.map((site) => el("a", { class: "button primary",
        href: `/request?site=${encodeURIComponent(site)}` }, t("resident:mine.new", { site: ctx.sites[site]?.name || site })))),
      list));
    async function reload() {
      const page = await ctx.api("me/filed", { query: { limit: 100 } });
      replace(list, page.items.length ? page.items.map((item) => card(ctx, item, reload))
        : el("p", { class: "empty" }, t("resident:mine.empty")));
    }
    await reload();
  },
};
