// Building DOM without innerHTML (text is always text: no markup injection from data).

/** el("button", {type: "button", class: "primary", onclick: fn}, "Save") → an element.
 * Attributes whose name starts with "on" become listeners; null/undefined/false ones are skipped;
 * children may be strings, numbers, nodes, arrays of them, or null (skipped). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : String(child));
  }
}

/** Replace everything inside `node` with `children`. */
export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

let announcer = null;

/** Say `text` to screen readers (an aria-live region in index.html). */
export function announce(text) {
  announcer ??= document.getElementById("announcer");
  if (announcer) announcer.textContent = text;
}

/** A labelled form field: el("label") around the text and the control, so clicking the text focuses it. */
export function field(labelText, control, hint = null) {
  return el("label", { class: "field" }, el("span", { class: "field-label" }, labelText), control,
    hint ? el("span", { class: "field-hint" }, hint) : null);
}

/** A <select> of [value, label] pairs with `selected` chosen. */
export function select(name, options, selected = "", attributes = {}) {
  return el("select", { name, ...attributes },
    options.map(([value, label]) => el("option", { value, selected: String(value) === String(selected) }, label)));
}
