// The console's screens, one import line per screen (each screen's owner adds its own two lines).
// A screen: export default { id, path: "#/x", roles: [...], titleKey: "ns:title", namespace: "ns",
//   render(root, ctx) → optional cleanup }; `public: true` opens it without signing in, `hidden: true`
// keeps it out of the navigation (reached by a link). The first allowed screen is a user's home.

import admin from "./admin.js";
import dispatcher from "./dispatcher.js";
import figures from "./figures.js";
import operator from "./operator.js";
import asset from "./asset.js";
import planner from "./planner.js";
import resident from "./resident.js";
import technician from "./technician.js";

const screens = [
  operator,
  dispatcher,
  figures,
  admin,
  technician,
  planner,
  asset,
  resident,
];

export default screens;
