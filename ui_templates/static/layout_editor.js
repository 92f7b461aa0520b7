// The layout editor (templates/setup/layouts/editor.html). Without it the page shows the
// layout read only and its JSON to edit. With it, the layout is arranged in place: tabs,
// their sections (one or two columns) and the fields in them, dragged from the palette of
// fields not yet placed, between sections and tabs, and back; every move is also a
// button or a select, so the keyboard does all a mouse does. Each change is written into
// the form's ``layout`` field as the JSON the server checks and saves; the preview asks
// the server to draw a real record in the unsaved layout.

import { clearDropMarks, dropIndex, h, markDrop, orderedChecklist, select } from "./layout_editor_parts.js";

const form = document.querySelector("[data-layout-form]");
const root = form && form.querySelector("[data-layout-editor]");
const data = root ? JSON.parse(root.dataset.editor) : null;
const text = form && form.querySelector("[data-layout-text]");
const MAX_HIGHLIGHTS = 6;
const MAX_COLUMNS = 8;
const RESERVED_TAB = "history";

const fields = new Map((data ? data.fields : []).map((field) => [field.name.toLowerCase(), field]));
const candidates = new Map((data ? data.related : []).map((each) => [each.key.toLowerCase(), each]));
let state = null;
// fresh: the names of tabs added here, unsaved (their name follows their label).
const ui = { tab: 0, open: null, target: null, problems: [], status: null, dragging: null, dirty: false, fresh: new Set() };

// -- the document --------------------------------------------------------------------------
function entryIn(entry) {
  return typeof entry === "string" ? { field: entry } : { ...entry };
}

function entryOut(entry) {
  const out = { field: entry.field };
  if (entry.required) {
    out.required = true;
  }
  if (entry.read_only) {
    out.read_only = true;
  }
  return Object.keys(out).length === 1 ? entry.field : out;
}

function load(documentIn) {
  const loaded = { ...documentIn };
  loaded.tabs = documentIn.tabs.map((tab) => ({
    ...tab,
    sections: (tab.sections || []).map((section) => ({ ...section, fields: section.fields.map(entryIn) })),
    related_lists: (tab.related_lists || []).map((each) => ({ ...each })),
  }));
  loaded.highlights = [...(documentIn.highlights || [])];
  return loaded;
}

function documentOf() {
  const out = {
    ...state,
    tabs: state.tabs.map((tab) => ({
      ...tab,
      sections: tab.sections.map((section) => ({ ...section, fields: section.fields.map(entryOut) })),
    })),
  };
  if (!out.path) {
    delete out.path;
  }
  return out;
}

function sync() {
  text.value = JSON.stringify(documentOf(), null, 2);
  ui.dirty = true;
}

// A change: apply it, forget where the refused save's problems were (they may have moved),
// write the JSON, draw again and say what happened.
function change(apply, message) {
  apply();
  ui.problems = [];
  sync();
  render();
  announce(message);
}

function announce(message) {
  if (message && ui.status) {
    ui.status.textContent = "";
    window.setTimeout(() => { ui.status.textContent = message; }, 50);
  }
}

// -- what is where ---------------------------------------------------------------------------
function labelOf(name) {
  const field = fields.get(String(name).toLowerCase());
  return field ? field.label : name;
}

function locate(name) {
  const wanted = name.toLowerCase();
  for (const [ti, tab] of state.tabs.entries()) {
    for (const [si, section] of tab.sections.entries()) {
      const fi = section.fields.findIndex((entry) => entry.field.toLowerCase() === wanted);
      if (fi >= 0) {
        return { ti, si, fi };
      }
    }
  }
  return null;
}

function unplaced() {
  return [...fields.values()].filter((field) => !locate(field.name));
}

function sectionName(ti, si) {
  const tab = state.tabs[ti];
  return `${tab.label} › ${tab.sections[si].label}`;
}

function allSections() {
  return state.tabs.flatMap((tab, ti) => tab.sections.map((section, si) => [`${ti}:${si}`, sectionName(ti, si)]));
}

// Moves field ``name`` (placed or from the palette) to position ``index`` of a section.
function place(name, ti, si, index) {
  const at = locate(name);
  let entry = { field: fields.has(name.toLowerCase()) ? fields.get(name.toLowerCase()).name : name };
  let position = index;
  if (at) {
    entry = state.tabs[at.ti].sections[at.si].fields.splice(at.fi, 1)[0];
    if (at.ti === ti && at.si === si && at.fi < position) {
      position -= 1;
    }
  }
  const target = state.tabs[ti].sections[si].fields;
  target.splice(Math.min(position, target.length), 0, entry);
}

function takeOff(name) {
  const at = locate(name);
  if (at) {
    state.tabs[at.ti].sections[at.si].fields.splice(at.fi, 1);
  }
}

function freeTabName(label, renamed = null) {
  const base = label.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^[^a-z]+|_+$/g, "").slice(0, 30) || "tab";
  const taken = new Set(state.tabs.filter((tab) => tab !== renamed).map((tab) => tab.name));
  let name = base === RESERVED_TAB ? `${base}_tab` : base;
  for (let number = 2; taken.has(name); number += 1) {
    name = `${base}_${number}`;
  }
  return name;
}

function problemsAt(test) {
  return ui.problems.filter(test).map((problem) => h("p", { class: "le-problem field-error" }, problem.message));
}

// -- drawing ---------------------------------------------------------------------------------
function render() {
  const focused = document.activeElement && root.contains(document.activeElement) ? document.activeElement.dataset.key : null;
  ui.tab = Math.min(ui.tab, state.tabs.length - 1);
  root.replaceChildren(
    h("div", { class: "le-main" }, renderTabs(), renderTab(state.tabs[ui.tab], ui.tab), renderHeaderCard()),
    renderPalette(),
  );
  root.append(ui.status);
  refreshPreviewTabs();
  if (focused) {
    const again = root.querySelector(`[data-key="${CSS.escape(focused)}"]`);
    const fallback = root.querySelector(`[data-key="${CSS.escape(focused.replace(/:[^:]*$/, ":toggle"))}"]`);
    (again && !again.disabled ? again : fallback || again)?.focus();
  }
}

function renderTabs() {
  const tabs = state.tabs.map((tab, ti) =>
    h(
      "li",
      {},
      h("button", {
        type: "button",
        class: "le-tab",
        "aria-pressed": ti === ui.tab ? "true" : "false",
        dataset: { key: `tab:${ti}`, tabDrop: String(ti) },
        onclick: () => { ui.tab = ti; render(); },
      }, tab.label, ui.problems.some((problem) => problem.tab === ti) ? h("span", { class: "le-tab-mark", "aria-label": "has problems" }, "!") : null),
    ),
  );
  const add = h("button", {
    type: "button",
    class: "button-secondary button-small le-add-tab",
    dataset: { key: "tab:add" },
    disabled: state.tabs.length >= 10,
    onclick: () => change(() => {
      const label = `Tab ${state.tabs.length + 1}`;
      const name = freeTabName(label);
      ui.fresh.add(name);
      state.tabs.push({ name, label, sections: [{ label: "New section", columns: 2, fields: [] }], related_lists: [] });
      ui.tab = state.tabs.length - 1;
    }, "Added a tab."),
  }, "Add tab");
  return h("div", { class: "le-tabbar" }, h("p", { class: "le-tabbar-title", id: "le-tabs-label" }, "Tabs"), h("ul", { class: "le-tabs", "aria-labelledby": "le-tabs-label" }, tabs), add);
}

function renderTab(tab, ti) {
  const labelId = `le-tab-label-${ti}`;
  const settings = h(
    "div",
    { class: "le-tab-settings" },
    h("div", { class: "le-control" },
      h("label", { for: labelId }, "Tab label"),
      h("input", {
        id: labelId, value: tab.label, maxlength: 80, required: true, dataset: { key: `tab:${ti}:label` },
        oninput: (event) => { tab.label = event.target.value; sync(); root.querySelector(`[data-key="tab:${ti}"]`).firstChild.textContent = tab.label; },
        onchange: () => {
          if (ui.fresh.has(tab.name)) { // not saved yet: its address follows its label
            ui.fresh.delete(tab.name);
            tab.name = freeTabName(tab.label, tab);
            ui.fresh.add(tab.name);
            sync();
          }
          render();
        },
      }),
      h("p", { class: "hint" }, `In the page address as ?tab=${tab.name}`),
    ),
    h("div", { class: "le-buttons" },
      button("Move tab left", `tab:${ti}:left`, ti === 0, () => change(() => { state.tabs.splice(ti - 1, 0, state.tabs.splice(ti, 1)[0]); ui.tab = ti - 1; }, `${tab.label} moved left.`)),
      button("Move tab right", `tab:${ti}:right`, ti === state.tabs.length - 1, () => change(() => { state.tabs.splice(ti + 1, 0, state.tabs.splice(ti, 1)[0]); ui.tab = ti + 1; }, `${tab.label} moved right.`)),
      button("Remove tab", `tab:${ti}:remove`, state.tabs.length === 1, () => change(() => { state.tabs.splice(ti, 1); ui.tab = Math.max(0, ti - 1); }, `Removed the tab ${tab.label}; its fields are back in the palette.`), "button-secondary button-danger-text"),
    ),
    problemsAt((problem) => problem.tab === ti && problem.section === null && problem.related === null),
  );
  const sections = tab.sections.map((section, si) => renderSection(tab, ti, section, si));
  // A new section goes above a closing section of system fields only (the generated
  // layout's "System information"), which belongs at the bottom of the page.
  const last = tab.sections[tab.sections.length - 1];
  const systemLast = Boolean(last && last.fields.length && last.fields.every((entry) => {
    const field = fields.get(entry.field.toLowerCase());
    return field && field.system;
  }));
  const addSection = button("Add section", `tab:${ti}:add-section`, tab.sections.length >= 30, () => change(() => {
    tab.sections.splice(systemLast ? tab.sections.length - 1 : tab.sections.length, 0, { label: "New section", columns: 2, fields: [] });
  }, systemLast ? `Added a section above ${last.label}.` : "Added a section at the end of the tab."), "button-secondary");
  return h(
    "section",
    { class: "le-tab-panel card", "aria-label": `Tab ${tab.label}` },
    settings,
    h("h2", { class: "le-heading" }, "Sections"),
    tab.sections.length ? h("ol", { class: "le-sections" }, sections) : h("p", { class: "hint le-none" }, "This tab has no sections."),
    addSection,
    renderRelatedLists(tab, ti),
  );
}

function button(label, key, disabled, onclick, extra = "button-secondary", named = null) {
  return h("button", { type: "button", class: `${extra} button-small`, disabled, "aria-label": named, dataset: { key }, onclick }, label);
}

function renderSection(tab, ti, section, si) {
  const id = `le-section-${ti}-${si}`;
  const columns = Number(section.columns || 2);
  const list = h(
    "ol",
    { class: `le-fields le-columns-${columns}`, dataset: { dropSection: `${ti}:${si}` }, "aria-label": `Fields of ${section.label}` },
    section.fields.map((entry, fi) => renderField(entry, ti, si, fi)),
  );
  if (!section.fields.length) {
    list.append(h("li", { class: "le-empty" }, "No fields yet: drag fields here, or add them from the palette."));
  }
  return h(
    "li",
    { class: "le-section", "aria-labelledby": `${id}-title` },
    h("h3", { class: "visually-hidden", id: `${id}-title` }, `Section ${section.label}`),
    h("div", { class: "le-section-head" },
      h("div", { class: "le-control le-grow" },
        h("label", { for: `${id}-label` }, "Section label"),
        h("input", {
          id: `${id}-label`, value: section.label, maxlength: 80, required: true, dataset: { key: `section:${ti}:${si}:label` },
          oninput: (event) => { section.label = event.target.value; sync(); },
          onchange: () => render(),
        }),
      ),
      h("div", { class: "le-control" },
        h("label", { for: `${id}-columns` }, "Columns"),
        select({ id: `${id}-columns`, dataset: { key: `section:${ti}:${si}:columns` }, onchange: (event) => change(() => { section.columns = Number(event.target.value); }, `${section.label} shows ${event.target.value} column(s).`) },
          [["1", "One"], ["2", "Two"]], String(columns)),
      ),
      h("label", { class: "choice le-folded" },
        h("input", { type: "checkbox", checked: section.collapsed, dataset: { key: `section:${ti}:${si}:collapsed` }, onchange: (event) => change(() => { section.collapsed = event.target.checked; if (event.target.checked) { section.collapsible = true; } }) }),
        "Starts folded"),
      h("div", { class: "le-buttons" },
        button("Up", `section:${ti}:${si}:up`, si === 0, () => change(() => { tab.sections.splice(si - 1, 0, tab.sections.splice(si, 1)[0]); }, `${section.label} moved up.`), undefined, `Move section ${section.label} up`),
        button("Down", `section:${ti}:${si}:down`, si === tab.sections.length - 1, () => change(() => { tab.sections.splice(si + 1, 0, tab.sections.splice(si, 1)[0]); }, `${section.label} moved down.`), undefined, `Move section ${section.label} down`),
        button("Remove", `section:${ti}:${si}:remove`, false, () => change(() => { tab.sections.splice(si, 1); }, `Removed ${section.label}; its fields are back in the palette.`), "button-secondary button-danger-text", `Remove section ${section.label}`),
      ),
    ),
    problemsAt((problem) => problem.tab === ti && problem.section === si && problem.field === null),
    list,
  );
}

// A field's API name under its label, where the two differ.
function apiName(label, name) {
  return label.toLowerCase() === name.toLowerCase() ? null : h("span", { class: "le-field-name" }, name);
}

function renderField(entry, ti, si, fi) {
  const field = fields.get(entry.field.toLowerCase());
  const label = field ? field.label : entry.field;
  const key = `field:${entry.field}`;
  const open = ui.open === entry.field.toLowerCase();
  const settingsId = `le-settings-${entry.field}`;
  const fieldsHere = state.tabs[ti].sections[si].fields;
  const problems = problemsAt((problem) => problem.tab === ti && problem.section === si && problem.field === fi);
  const badges = [
    entry.required || (field && field.required) ? h("span", { class: "badge le-badge" }, "Required") : null,
    entry.read_only || (field && field.system) ? h("span", { class: "badge le-badge" }, "Read only") : null,
    field ? null : h("span", { class: "badge badge-overdue le-badge" }, "Not a field"),
  ];
  const settings = open ? renderFieldSettings(entry, field, label, ti, si, fi, fieldsHere.length, settingsId) : null;
  return h(
    "li",
    {
      class: `le-field${open ? " is-open" : ""}${problems.length ? " has-problem" : ""}`,
      draggable: "true",
      dataset: { dropItem: "", field: entry.field },
      ondragstart: (event) => startDrag(event, entry.field),
      ondragend: endDrag,
    },
    h("div", { class: "le-field-row" },
      h("span", { class: "le-grip", "aria-hidden": "true" }),
      h("span", { class: "le-field-label" }, label, apiName(label, entry.field)),
      badges,
      h("button", {
        type: "button",
        class: "icon-button le-toggle",
        "aria-expanded": open ? "true" : "false",
        "aria-controls": open ? settingsId : null,
        "aria-label": `${label}: settings and moves`,
        dataset: { key: `${key}:toggle` },
        onclick: () => { ui.open = open ? null : entry.field.toLowerCase(); render(); },
      }, h("span", { "aria-hidden": "true" }, "⋯")),
    ),
    problems,
    settings,
  );
}

function renderFieldSettings(entry, field, label, ti, si, fi, count, id) {
  const key = `field:${entry.field}`;
  const canRequire = field && field.can_require && !field.required;
  const flags = field && !field.system
    ? [
      h("label", { class: "choice" },
        h("input", { type: "checkbox", checked: entry.required || field.required, disabled: !canRequire, dataset: { key: `${key}:required` },
          onchange: (event) => change(() => { entry.required = event.target.checked; if (entry.required) { entry.read_only = false; } }, `${label} is ${event.target.checked ? "" : "not "}required on this page.`) }),
        "Required on this page"),
      h("label", { class: "choice" },
        h("input", { type: "checkbox", checked: entry.read_only, dataset: { key: `${key}:read_only` },
          onchange: (event) => change(() => { entry.read_only = event.target.checked; if (entry.read_only) { entry.required = false; } }, `${label} is ${event.target.checked ? "" : "not "}read only on this page.`) }),
        "Read only on this page"),
      field.required ? h("p", { class: "hint" }, "Required by the field itself, on every page.") : null,
      !field.can_require ? h("p", { class: "hint" }, "Computed: Trellis sets it, so it cannot be required.") : null,
    ]
    : [h("p", { class: "hint" }, field ? "Set by Trellis: shown read only." : "No field of this object has this name: remove it.")];
  const moveId = `${id}-move`;
  return h(
    "div",
    { class: "le-field-settings", id },
    flags,
    h("div", { class: "le-buttons" },
      button("Move up", `${key}:up`, fi === 0, () => change(() => place(entry.field, ti, si, fi - 1), `${label} moved up.`), undefined, `Move ${label} up`),
      button("Move down", `${key}:down`, fi === count - 1, () => change(() => place(entry.field, ti, si, fi + 2), `${label} moved down.`), undefined, `Move ${label} down`),
      button("Remove from layout", `${key}:remove`, false, () => change(() => { takeOff(entry.field); ui.open = null; }, `${label} is back in the palette.`), "button-secondary button-danger-text"),
    ),
    h("div", { class: "le-control" },
      h("label", { for: moveId }, "Move to section"),
      select({ id: moveId, dataset: { key: `${key}:move` }, onchange: (event) => {
        const [toTab, toSection] = event.target.value.split(":").map(Number);
        change(() => { place(entry.field, toTab, toSection, Infinity); ui.tab = toTab; }, `${label} moved to ${sectionName(toTab, toSection)}.`);
      } }, allSections(), `${ti}:${si}`),
    ),
  );
}

function renderPalette() {
  const targets = allSections();
  const chosen = ui.target && targets.some(([value]) => value === ui.target) ? ui.target : `${ui.tab}:0`;
  const items = unplaced().map((field) =>
    h(
      "li",
      { class: "le-field le-palette-item", draggable: "true", dataset: { field: field.name }, ondragstart: (event) => startDrag(event, field.name), ondragend: endDrag },
      h("div", { class: "le-field-row" },
        h("span", { class: "le-grip", "aria-hidden": "true" }),
        h("span", { class: "le-field-label" }, field.label, apiName(field.label, field.name)),
        h("button", {
          type: "button", class: "button-secondary button-small", disabled: !targets.length, "aria-label": `Add ${field.label}`, dataset: { key: `palette:${field.name}` },
          onclick: () => {
            const [ti, si] = (root.querySelector("[data-palette-target]").value || chosen).split(":").map(Number);
            change(() => { place(field.name, ti, si, Infinity); ui.tab = ti; }, `${field.label} added to ${sectionName(ti, si)}.`);
          },
        }, "Add"),
      ),
    ),
  );
  return h(
    "aside",
    { class: "le-palette card", "aria-labelledby": "le-palette-title" },
    h("h2", { id: "le-palette-title", class: "le-heading" }, "Fields not on the layout"),
    h("p", { class: "hint" }, "Drag a field into a section, or add it to the section chosen here. Drag a field back here to take it off."),
    targets.length
      ? h("div", { class: "le-control" }, h("label", { for: "le-palette-target" }, "Add to"), select({ id: "le-palette-target", dataset: { paletteTarget: "", key: "palette:target" }, onchange: (event) => { ui.target = event.target.value; } }, targets, chosen))
      : h("p", { class: "hint" }, "Add a section first."),
    h("ul", { class: "le-palette-list", dataset: { dropPalette: "" } }, items.length ? items : h("li", { class: "le-empty" }, "Every field is on the layout.")),
  );
}

// -- related lists, path and highlights ------------------------------------------------------
function renderRelatedLists(tab, ti) {
  const entries = tab.related_lists.map((entry, ri) => renderRelated(tab, ti, entry, ri));
  const choices = [...candidates.values()].map((each) => [each.key, each.choice]);
  const addId = `le-related-add-${ti}`;
  return h(
    "div",
    { class: "le-related-lists" },
    h("h2", { class: "le-heading" }, "Related lists"),
    entries.length ? h("ol", { class: "le-related-items" }, entries) : h("p", { class: "hint le-none" }, choices.length ? "This tab lists no related records." : "No object has a lookup to this one, so there are no related lists to add."),
    choices.length && tab.related_lists.length < 20
      ? h("div", { class: "le-related-add" },
        h("div", { class: "le-control le-grow" }, h("label", { for: addId }, "Related records to list"), select({ id: addId, dataset: { key: `related:${ti}:choice` } }, choices, choices[0][0])),
        button("Add related list", `related:${ti}:add`, false, () => {
          const chosen = candidates.get(root.querySelector(`#${addId}`).value.toLowerCase());
          change(() => tab.related_lists.push({ object: chosen.object, lookup: chosen.lookup, label: chosen.label, columns: chosen.fields.slice(0, 4).map((field) => field.name) }), `Added the related list ${chosen.label}.`);
        }))
      : null,
  );
}

function renderRelated(tab, ti, entry, ri) {
  const candidate = candidates.get(`${entry.object}.${entry.lookup}`.toLowerCase());
  const id = `le-related-${ti}-${ri}`;
  const title = entry.label || (candidate ? candidate.label : entry.object);
  const sortKey = String(entry.sort || "-created_at");
  const sortField = sortKey.replace(/^-/, "");
  const sortOptions = candidate
    ? [...candidate.fields.filter((field) => field.sortable).map((field) => [field.name, field.label]), ...candidate.sorts.map((each) => [each.name, each.label])]
    : [[sortField, sortField]];
  const setSort = (field, descending) => change(() => { entry.sort = `${descending ? "-" : ""}${field}`; });
  return h(
    "li",
    { class: "le-related", "aria-labelledby": `${id}-title` },
    h("h3", { class: "le-related-title", id: `${id}-title` }, title, h("span", { class: "le-field-name" }, `${entry.object} by ${entry.lookup}`)),
    problemsAt((problem) => problem.tab === ti && problem.related === ri),
    h("div", { class: "le-related-grid" },
      h("div", { class: "le-control" },
        h("label", { for: `${id}-label` }, "Title"),
        h("input", { id: `${id}-label`, value: entry.label || "", maxlength: 80, dataset: { key: `related:${ti}:${ri}:label` },
          oninput: (event) => { if (event.target.value.trim()) { entry.label = event.target.value; } else { delete entry.label; } sync(); }, onchange: () => render() }),
      ),
      h("div", { class: "le-control" },
        h("label", { for: `${id}-sort` }, "Sort by"),
        select({ id: `${id}-sort`, dataset: { key: `related:${ti}:${ri}:sort` }, onchange: (event) => setSort(event.target.value, sortKey.startsWith("-")) }, sortOptions, sortField),
      ),
      h("div", { class: "le-control" },
        h("label", { for: `${id}-direction` }, "Order"),
        select({ id: `${id}-direction`, dataset: { key: `related:${ti}:${ri}:direction` }, onchange: (event) => setSort(sortField, event.target.value === "desc") }, [["asc", "Ascending"], ["desc", "Descending"]], sortKey.startsWith("-") ? "desc" : "asc"),
      ),
      h("div", { class: "le-control le-narrow" },
        h("label", { for: `${id}-limit` }, "Rows"),
        h("input", { id: `${id}-limit`, type: "number", min: 1, max: 50, value: entry.limit || 5, dataset: { key: `related:${ti}:${ri}:limit` },
          onchange: (event) => change(() => { entry.limit = Math.max(1, Math.min(50, Number(event.target.value) || 5)); }) }),
      ),
    ),
    candidate
      ? orderedChecklist({ id: `${id}-columns`, legend: "Columns, in order", options: candidate.fields, chosen: entry.columns || [], most: MAX_COLUMNS,
        hint: `Up to ${MAX_COLUMNS}; the first links to the record.`,
        change: (names) => change(() => { if (names.length) { entry.columns = names; } else { delete entry.columns; } }, "Columns changed.") })
      : null,
    h("div", { class: "le-buttons" },
      button("Up", `related:${ti}:${ri}:up`, ri === 0, () => change(() => { tab.related_lists.splice(ri - 1, 0, tab.related_lists.splice(ri, 1)[0]); }, `${title} moved up.`), undefined, `Move related list ${title} up`),
      button("Down", `related:${ti}:${ri}:down`, ri === tab.related_lists.length - 1, () => change(() => { tab.related_lists.splice(ri + 1, 0, tab.related_lists.splice(ri, 1)[0]); }, `${title} moved down.`), undefined, `Move related list ${title} down`),
      button("Remove", `related:${ti}:${ri}:remove`, false, () => change(() => { tab.related_lists.splice(ri, 1); }, `Removed the related list ${title}.`), "button-secondary button-danger-text", `Remove related list ${title}`),
    ),
  );
}

function renderHeaderCard() {
  const own = [...fields.values()].filter((field) => !field.system);
  const paths = [["", "No path"], ...own.filter((field) => field.can_path).map((field) => [field.name, field.label])];
  return h(
    "section",
    { class: "le-header-card card", "aria-labelledby": "le-header-title" },
    h("h2", { id: "le-header-title", class: "le-heading" }, "Under the record's name"),
    problemsAt((problem) => problem.tab === null && problem.where !== "The layout"),
    h("div", { class: "le-control" },
      h("label", { for: "le-path" }, "Path"),
      select({ id: "le-path", dataset: { key: "path" }, onchange: (event) => change(() => { state.path = event.target.value; }, "Path changed.") }, paths, state.path || ""),
      h("p", { class: "hint" }, "A picklist whose values show as steps at the top of the page."),
    ),
    orderedChecklist({ id: "le-highlights", legend: "Highlights, in order", options: own, chosen: state.highlights, most: MAX_HIGHLIGHTS,
      hint: `Up to ${MAX_HIGHLIGHTS} fields shown under the name.`, change: (names) => change(() => { state.highlights = names; }, "Highlights changed.") }),
  );
}

// -- dragging --------------------------------------------------------------------------------
function startDrag(event, name) {
  event.stopPropagation();
  ui.dragging = name;
  event.dataTransfer.effectAllowed = "move";
  event.dataTransfer.setData("text/plain", name);
  event.currentTarget.classList.add("is-dragging");
}

function endDrag(event) {
  ui.dragging = null;
  event.currentTarget.classList.remove("is-dragging");
  clearDropMarks();
}

function dropTarget(event) {
  return event.target.closest && event.target.closest("[data-drop-section], [data-drop-palette], [data-tab-drop]");
}

function onDragOver(event) {
  const target = ui.dragging && dropTarget(event);
  if (!target) {
    return;
  }
  event.preventDefault();
  event.dataTransfer.dropEffect = "move";
  if (target.dataset.dropSection !== undefined) {
    markDrop(target, dropIndex(target, event.clientX, event.clientY));
  } else {
    clearDropMarks();
    target.classList.add("is-drop-target");
  }
}

function onDrop(event) {
  const target = ui.dragging && dropTarget(event);
  if (!target) {
    return;
  }
  event.preventDefault();
  const name = ui.dragging;
  const label = labelOf(name);
  clearDropMarks();
  if (target.dataset.dropPalette !== undefined) {
    change(() => takeOff(name), `${label} is back in the palette.`);
  } else if (target.dataset.tabDrop !== undefined) {
    const ti = Number(target.dataset.tabDrop);
    const tab = state.tabs[ti];
    change(() => {
      if (!tab.sections.length) {
        tab.sections.push({ label: "New section", columns: 2, fields: [] });
      }
      place(name, ti, 0, Infinity);
      ui.tab = ti;
    }, `${label} moved to ${sectionName(ti, 0)}.`);
  } else {
    const [ti, si] = target.dataset.dropSection.split(":").map(Number);
    const index = dropIndex(target, event.clientX, event.clientY);
    change(() => place(name, ti, si, index), `${label} placed in ${sectionName(ti, si)}.`);
  }
}

// -- the preview -----------------------------------------------------------------------------
function refreshPreviewTabs() {
  const tabSelect = form.querySelector("[data-preview-tab]");
  if (!tabSelect) {
    return;
  }
  const chosen = tabSelect.value;
  tabSelect.replaceChildren(...state.tabs.map((tab) => h("option", { value: tab.name, selected: tab.name === chosen }, tab.label)));
}

async function showPreview() {
  sync();
  const panel = form.querySelector("[data-preview-panel]");
  panel.setAttribute("aria-busy", "true");
  try {
    const response = await fetch(form.dataset.previewUrl, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-Trellis-Fragment": "preview", Accept: "text/html" },
    });
    if (!response.ok) {
      throw new Error(`preview answered ${response.status}`);
    }
    panel.innerHTML = await response.text();
    panel.focus();
  } catch {
    panel.replaceChildren(h("p", { class: "layout-preview-message" }, "The preview could not be shown; try again."));
  } finally {
    panel.removeAttribute("aria-busy");
  }
}

// -- start -----------------------------------------------------------------------------------
function start() {
  if (!data || !data.editable || !text) {
    return; // the read-only view and the JSON box stay
  }
  try {
    state = load(JSON.parse(text.value));
  } catch {
    return;
  }
  ui.problems = data.problems || [];
  ui.dirty = ui.problems.length > 0; // a refused draft is not saved yet
  ui.status = h("p", { class: "visually-hidden", role: "status", "aria-live": "polite" });
  const firstProblem = ui.problems.find((problem) => problem.tab !== null);
  if (firstProblem) {
    ui.tab = firstProblem.tab;
  }
  root.hidden = false;
  form.querySelector("[data-layout-static]")?.remove();
  form.querySelector("[data-layout-json]").hidden = true;
  root.addEventListener("dragover", onDragOver);
  root.addEventListener("drop", onDrop);
  root.addEventListener("dragleave", (event) => { if (!root.contains(event.relatedTarget)) { clearDropMarks(); } });
  form.addEventListener("submit", (event) => {
    const dirty = ui.dirty;
    sync();
    if (event.submitter && event.submitter.matches("[data-preview-button]")) {
      event.preventDefault();
      ui.dirty = dirty;
      showPreview();
    } else {
      ui.dirty = false; // saving: leaving the page is what it should do
    }
  });
  window.addEventListener("beforeunload", (event) => {
    if (ui.dirty) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  render();
}

start();
