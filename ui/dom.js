/**
 * Building the page. Everything shown goes in as text nodes or attribute
 * values, never as markup: payloads, headers and response bodies come from
 * strangers, and the browser then never parses them as HTML.
 */

/**
 * An element with attributes, listeners (`onclick`, ...) and children.
 * Strings and numbers become text; null, undefined and false are skipped.
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      element.className = value;
    } else if (name === "href") {
      element.setAttribute("href", ownLink(value));
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

/** Adds children (nested arrays flattened) as nodes or text. */
export function append(element, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** Links go only to the dashboard's own routes: data never becomes a URL to follow. */
function ownLink(href) {
  const text = String(href);
  if (!text.startsWith("#")) throw new TypeError(`Not a dashboard link: ${text}`);
  return text;
}

/** A link to a dashboard route built from ids, each encoded. */
export function route(...parts) {
  return "#/" + parts.map((part, i) => (i === 0 ? part : encodeURIComponent(part))).join("/");
}

/** An SVG element (the live chart); attributes only, no markup. */
export function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes)) {
    element.setAttribute(name, String(value));
  }
  for (const child of children) element.append(child);
  return element;
}

/** A label/value list, for a record's fields. */
export function fields(pairs) {
  return h(
    "dl",
    { class: "fields" },
    pairs.filter(([, value]) => value !== undefined).map(([label, value]) => [
      h("dt", {}, label),
      h("dd", {}, value === null || value === "" ? h("span", { class: "muted" }, "—") : value),
    ]),
  );
}

/**
 * A table that turns into labelled cards on a narrow screen (each cell
 * carries its column's name for the stylesheet to show).
 */
export function table(columns, rows, { empty = "Nothing here.", caption } = {}) {
  if (rows.length === 0) return h("p", { class: "empty" }, empty);
  return h(
    "table",
    { class: "cards" },
    caption ? h("caption", { class: "visually-hidden" }, caption) : null,
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.label)))),
    h(
      "tbody",
      {},
      rows.map((row) =>
        h(
          "tr",
          row.attributes ?? {},
          columns.map((c) => h("td", { "data-label": c.label }, c.cell(row.value ?? row))),
        )
      ),
    ),
  );
}

/** A name/value table of HTTP headers (or "none"). */
export function headerTable(headers, label) {
  const entries = Object.entries(headers ?? {});
  if (entries.length === 0) return h("p", { class: "muted" }, `No ${label.toLowerCase()}.`);
  return h(
    "table",
    { class: "headers" },
    h("caption", {}, label),
    h(
      "tbody",
      {},
      entries.map(([name, value]) =>
        h("tr", {}, h("th", { scope: "row" }, name), h("td", {}, value))
      ),
    ),
  );
}

/** A small coloured label: `tone` is one of good, warn, bad, info, off. */
export function badge(text, tone = "off") {
  return h("span", { class: `badge ${tone}` }, text);
}
