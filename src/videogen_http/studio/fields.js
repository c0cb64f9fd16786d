// Controls for API fields the page learns from GET /capabilities' request
// schemas (the OpenAPI document's Scene and GenerationParams): an enum becomes
// a select, a number a number input, a boolean a yes/no select, an object or
// array a JSON text box, anything else a text box. So options the API gains
// (aspect ratio, resolution, caption style...) appear without a page change.

export function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

export function fillSelect(select, values, { empty = null, selected = "" } = {}) {
  select.replaceChildren();
  if (empty !== null) select.append(el("option", { value: "" }, empty));
  for (const v of values) select.append(el("option", { value: v }, v));
  select.value = selected;
}

/** Flatten a JSON-schema property into {kind, choices, min, max, examples}. */
export function describe(schema) {
  const branches = [schema, ...(schema.anyOf || []), ...(schema.oneOf || [])];
  let choices = null;
  const types = new Set();
  const examples = [];
  for (const b of branches) {
    if (Array.isArray(b.enum)) choices = (choices || []).concat(b.enum.filter((v) => v !== null));
    if (b.const !== undefined && b.const !== null) choices = (choices || []).concat([b.const]);
    for (const t of [].concat(b.type || [])) if (t !== "null") types.add(t);
    if (Array.isArray(b.examples)) examples.push(...b.examples);
  }
  let kind = "text";
  if (choices) kind = "choice";
  else if (types.has("boolean")) kind = "boolean";
  else if (types.has("integer") || types.has("number")) kind = "number";
  else if (types.has("object") || types.has("array")) kind = "json";
  return { kind, choices, integer: types.has("integer") && !types.has("number"),
    min: schema.minimum ?? schema.exclusiveMinimum, max: schema.maximum, examples,
    description: schema.description || "" };
}

export const labelOf = (name) => name.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());

/** A labelled control for an API field the page has no special control for. */
export function extraControl(name, schema, id, dataAttr, errorAttrs) {
  const d = describe(schema);
  const wrap = el("div", { class: "field" });
  wrap.append(el("label", { for: id }, labelOf(name) + (d.kind === "json" ? " (JSON)" : "")));
  let control;
  if (d.kind === "choice" || d.kind === "boolean") {
    // option values are JSON, so a value goes back with its type (1 stays 1, "1" stays "1")
    control = el("select", { id });
    control.append(el("option", { value: "" }, "(server default)"));
    for (const v of d.kind === "boolean" ? [true, false] : d.choices) {
      control.append(el("option", { value: JSON.stringify(v) }, String(v)));
    }
  } else if (d.kind === "number") {
    control = el("input", { id, type: "number", step: d.integer ? "1" : "any" });
    if (d.min !== undefined) control.min = d.min;
    if (d.max !== undefined) control.max = d.max;
  } else {
    control = el("input", { id, type: "text", autocomplete: "off" });
    if (d.examples.length) control.placeholder = `e.g. ${d.examples.join(", ")}`;
  }
  control.dataset[dataAttr] = name;
  control.dataset.kind = d.kind;
  if (d.description) control.title = d.description;
  wrap.append(control);
  wrap.append(el("p", { class: "field-error", ...errorAttrs }));
  return wrap;
}

/** The value of a control made by extraControl, typed for the request; undefined when empty. */
export function extraValue(control) {
  const raw = control.value.trim();
  if (raw === "") return undefined;
  const kind = control.dataset.kind;
  if (kind === "number") {
    const n = Number(raw);
    return Number.isFinite(n) ? n : raw; // the server names the field
  }
  if (kind === "choice" || kind === "boolean" || kind === "json") {
    try {
      return JSON.parse(raw);
    } catch (_) {
      return raw; // the server names the field
    }
  }
  return raw;
}

/** Show `value` (from a loaded script) in a control made by extraControl. */
export function setExtraValue(control, value) {
  if (value === undefined || value === null) {
    control.value = "";
    return;
  }
  const kind = control.dataset.kind;
  const text = kind === "text" || kind === "number" ? String(value) : JSON.stringify(value);
  if (control.tagName === "SELECT" && ![...control.options].some((o) => o.value === text)) {
    const label = Array.isArray(value) ? `point ${value.join(", ")}` : String(value);
    control.append(el("option", { value: text }, label)); // not offered: kept as sent
  }
  control.value = text;
}

/** True when `schema` takes a point [x, y] in 0–1 image coordinates (e.g. a scene's focus). */
export function acceptsPoint(schema) {
  const branches = [schema, ...(schema.anyOf || []), ...(schema.oneOf || [])];
  return branches.some((b) => [].concat(b.type || []).includes("array") && b.minItems === 2 &&
    b.maxItems === 2 && b.items && b.items.minimum === 0 && b.items.maximum === 1);
}

/** The point [x, y] (0–1, two decimals) of the picture under (px, py) in a box of
 * boxW x boxH showing a naturalW x naturalH image with object-fit: cover. */
export function pointInCover(boxW, boxH, naturalW, naturalH, px, py) {
  const scale = Math.max(boxW / naturalW, boxH / naturalH);
  const w = naturalW * scale;
  const h = naturalH * scale;
  const clamp = (v) => Math.round(Math.min(1, Math.max(0, v)) * 100) / 100;
  return [clamp((px - (boxW - w) / 2) / w), clamp((py - (boxH - h) / 2) / h)];
}
