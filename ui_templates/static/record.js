// The record page's enhancements. Without them every part works as links and forms:
// tabs are links (?tab=name), the pencil next to a field opens the edit form, the path's
// stages are one-button forms. With them:
// - the tabs ([data-tabs]) are a tablist: arrow keys, Home and End move between them,
//   Enter, Space or a click shows a tab in place (its panel fetched alone);
// - a pencil with [data-inline-edit] turns its field into a small form in place, with
//   the record forms' widget for the field and its enhancements (lookup type-ahead,
//   local times, rich text): Save posts it (a success brings the page up to date, an
//   error shows under the input), Cancel or Escape puts the value back; the focus stays
//   where the person works.

import { enhanceLookups } from "./lookup.js";
import { enhanceWidgets } from "./record_form.js";

const FRAGMENT = "X-Trellis-Fragment";
const record = document.querySelector("[data-record]");

function announce(text) {
  const status = document.querySelector("[data-record-status]");
  if (status) {
    status.textContent = "";
    window.setTimeout(() => { status.textContent = text; }, 50);
  }
}

function parse(html) {
  const template = document.createElement("template");
  template.innerHTML = html;
  return template.content;
}

// -- tabs ---------------------------------------------------------------------------------
function tabs() {
  return Array.from(document.querySelectorAll("[data-tabs] [role=tab]"));
}

function markSelected(selected) {
  for (const tab of tabs()) {
    const on = tab === selected;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
  }
  document.querySelector("[data-tab-panel]").setAttribute("aria-labelledby", selected.id);
}

async function showTab(tab, { push = true, focusPanel = false } = {}) {
  const panel = document.querySelector("[data-tab-panel]");
  const response = await fetch(tab.href, { headers: { [FRAGMENT]: "tab" } });
  if (!response.ok) {
    window.location.assign(tab.href);
    return;
  }
  panel.replaceChildren(parse(await response.text()));
  markSelected(tab);
  if (push) {
    window.history.pushState({ tab: tab.dataset.tab }, "", tab.href);
  }
  if (focusPanel) {
    panel.focus();
  }
}

function initialTab() {
  const all = tabs();
  return all.find((tab) => tab.getAttribute("aria-selected") === "true") || all[0];
}

function setUpTabs() {
  // Delegated from the record, whose contents are replaced after an inline save.
  if (!record || !initialTab()) {
    return;
  }
  markSelected(initialTab());
  record.addEventListener("click", (event) => {
    const tab = event.target.closest("[data-tabs] [role=tab]");
    if (tab && !event.metaKey && !event.ctrlKey && !event.shiftKey) {
      event.preventDefault();
      showTab(tab);
    }
  });
  record.addEventListener("keydown", (event) => {
    const all = tabs();
    const index = all.indexOf(document.activeElement);
    if (index < 0) {
      return;
    }
    const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: all.length - 1 };
    if (event.key in moves) {
      event.preventDefault();
      all[(moves[event.key] + all.length) % all.length].focus();
    } else if (event.key === " ") {
      event.preventDefault();
      showTab(all[index]);
    }
  });
  window.addEventListener("popstate", () => {
    const name = new URLSearchParams(window.location.search).get("tab");
    const tab = tabs().find((each) => each.dataset.tab === name) || tabs()[0];
    showTab(tab, { push: false });
  });
}

// -- inline edit --------------------------------------------------------------------------
const originals = new Map(); // field item id -> the item as it was before editing

function restore(item) {
  const original = originals.get(item.id);
  if (!original) {
    return;
  }
  item.replaceWith(original);
  originals.delete(item.id);
  const pencil = original.querySelector(".field-edit");
  if (pencil) {
    pencil.focus();
  }
}

function enhanceEditor(item) {
  enhanceWidgets(item);
  enhanceLookups(item);
}

// The widget's control (a script may have replaced the one the server sent).
function focusInput(item) {
  const input = item.querySelector("[data-control]") || item.querySelector("input:not([type=hidden]), select, textarea");
  if (input) {
    input.focus();
  }
}

async function openEditor(pencil) {
  const item = pencil.closest("[data-field-item]");
  const response = await fetch(pencil.dataset.inlineEdit, { headers: { [FRAGMENT]: "field" } });
  if (!response.ok) {
    window.location.assign(pencil.href);
    return;
  }
  const editor = parse(await response.text()).querySelector("[data-field-item]");
  originals.set(item.id, item);
  item.replaceWith(editor);
  enhanceEditor(editor);
  focusInput(editor);
}

async function saveField(form) {
  const item = form.closest("[data-field-item]");
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  const response = await fetch(form.action, {
    method: "POST",
    body: new FormData(form),
    headers: { [FRAGMENT]: "field" },
  });
  const content = parse(await response.text());
  const fresh = response.ok && content.querySelector("[data-record]");
  if (fresh) {
    originals.delete(item.id);
    record.replaceChildren(...fresh.childNodes);
    markSelected(initialTab());
    const pencil = document.querySelector(`#${CSS.escape(item.id)} .field-edit`);
    if (pencil) {
      pencil.focus();
    }
    const label = item.querySelector(".field-label");
    announce(`${label ? label.textContent.replace("*", "").trim() : "Field"} saved.`);
    return;
  }
  const editor = content.querySelector("[data-field-item]");
  if (!editor) {
    window.location.assign(record.dataset.recordUrl);
    return;
  }
  item.replaceWith(editor);
  enhanceEditor(editor);
  focusInput(editor);
}

function setUpInlineEdit() {
  if (!record) {
    return;
  }
  // An editor the page came with (opened or sent back without script).
  for (const form of record.querySelectorAll("[data-inline-form]")) {
    enhanceEditor(form.closest("[data-field-item]"));
  }
  record.addEventListener("click", (event) => {
    const pencil = event.target.closest("[data-inline-edit]");
    if (pencil) {
      event.preventDefault();
      openEditor(pencil);
      return;
    }
    const cancel = event.target.closest("[data-inline-cancel]");
    if (cancel) {
      const item = cancel.closest("[data-field-item]");
      if (originals.has(item.id)) {
        event.preventDefault();
        restore(item);
      }
    }
  });
  record.addEventListener("submit", (event) => {
    const form = event.target.closest("[data-inline-form]");
    if (form) {
      event.preventDefault();
      saveField(form);
    }
  });
  record.addEventListener("keydown", (event) => {
    const form = event.target.closest("[data-inline-form]");
    // A control may use Escape itself first (a lookup closes its list).
    if (form && event.key === "Escape" && !event.defaultPrevented) {
      event.preventDefault();
      restore(form.closest("[data-field-item]"));
    }
  });
}

// A path wider than the screen (a phone) scrolls; start it at the current stage.
function showCurrentStage() {
  const path = document.querySelector(".path");
  const current = path && path.querySelector(".is-current");
  if (current && path.scrollWidth > path.clientWidth) {
    path.scrollLeft = current.offsetLeft - (path.clientWidth - current.offsetWidth) / 2;
  }
}

setUpTabs();
setUpInlineEdit();
showCurrentStage();
