// The console's screens, one import line per screen (each screen's owner adds its own two lines).
// A screen: export default { id, path: "#/x", roles: [...], titleKey: "ns:title", namespace: "ns",
//   render(root, ctx) → optional cleanup }; `public: true` opens it without signing in, `hidden: true`
// keeps it out of the navigation (reached by a link). The first allowed screen is a user's home.

import operator from "./operator.js";
import asset from "./asset.js"; // H5
import planner from "./planner.js"; // H5
import resident from "./resident.js"; // H5
import technician from "./technician.js"; // H5

const screens = [
  operator,
  technician, // H5
  planner, // H5
  asset, // H5
  resident, // H5
];

export default screens;
