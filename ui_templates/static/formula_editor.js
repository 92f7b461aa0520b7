// The formula editor: enhances every <textarea data-formula-editor data-object="Deal"
// [data-object-from="<id of a select>"] [data-return-type="checkbox"]
// [data-purpose="validation_rule"]> on the page. The textarea stays the form's field (and
// works alone without this script, its label and name unchanged); around it:
//
// - highlighting: a <pre> behind the textarea, whose text is transparent, kept at the
//   same size, font and scroll position, coloured by formula_highlight.js;
// - pickers (formula_pickers.js) that insert a field path or a function call at the cursor;
// - a live check as the admin types (POST /api/v1/meta/formulas/check), the error
//   underlined where it is, with its message and the name meant ("Did you mean Amount?",
//   a button puts it in), or the type the formula gives when it is valid;
// - Try it: pick a record and see the formula's value on it (POST
//   /api/v1/meta/formulas/evaluate, read with the admin's own access).
//
// The formula is about data-object, or, with data-object-from, about the object the
// named select (or input) holds: when the admin picks another object there, the field
// picker, the live check and Try it follow it; with no object chosen yet the editor
// says so rather than checking against nothing.

import { render } from "./formula_highlight.js";
import { fieldPicker, functionPicker, make } from "./formula_pickers.js";
import { tryPanel } from "./formula_try.js";

const CHECK_DELAY_MS = 350;
const TYPE_LABELS = {
  checkbox: "Checkbox (TRUE or FALSE)",
  text: "Text",
  number: "Number",
  currency: "Currency",
  percent: "Percent",
  date: "Date",
  datetime: "Date/Time",
  time: "Time",
  picklist: "Picklist",
  multi_picklist: "Multi-select picklist",
};
// Box properties the highlight copies from the textarea, so their text lines up exactly.
const COPIED = [
  "fontFamily", "fontSize", "fontWeight", "lineHeight", "letterSpacing", "tabSize",
  "paddingTop", "paddingRight", "paddingBottom", "paddingLeft",
  "borderTopWidth", "borderRightWidth", "borderBottomWidth", "borderLeftWidth",
];
let counter = 0;

export function csrfToken(element) {
  const input = element.closest("form")?.querySelector("input[name='csrf_token']") || document.querySelector("input[name='csrf_token']");
  return element.dataset.csrfToken || input?.value || "";
}

export async function postJson(element, url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrfToken(element) },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  return { ok: response.ok, status: response.status, answer };
}

// The error's span as offsets into the source (end exclusive).
function span(error, source) {
  if (Array.isArray(error.offsets)) {
    return { start: error.offsets[0], end: error.offsets[1] };
  }
  if (!error.line || !error.column) {
    return null;
  }
  const lines = source.split("\n");
  const offset = (line, column) => lines.slice(0, line - 1).reduce((sum, text) => sum + text.length + 1, 0) + column - 1;
  const start = offset(error.line, error.column);
  const end = error.end_line && error.end_column ? offset(error.end_line, error.end_column) : start + 1;
  return { start, end: Math.max(start, end) };
}

// The select (or input) naming the formula's object, for data-object-from.
function objectSource(textarea) {
  return textarea.dataset.objectFrom ? document.getElementById(textarea.dataset.objectFrom) : null;
}

// The parts of an editor that depend on the formula's object: the field picker and Try
// it, made again when the object changes (their lists and record search are its own).
// A compact editor (data-formula-compact, one of many small boxes such as an action's
// field values) keeps Try it behind a button of the toolbar. Returns ``aim()``.
function objectParts({ editor, toolbar, textarea, settings, insert }) {
  const compact = textarea.dataset.formulaCompact !== undefined;
  const toggle = compact
    ? make("button", { type: "button", className: "button-secondary formula-tool", textContent: "Try it" }, {
        "aria-expanded": "false",
        "aria-controls": `${textarea.id}-try`,
      })
    : null;
  let fields = null;
  let trying = null;
  toggle?.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    if (trying) {
      trying.hidden = !open;
      trying.querySelector("input")?.focus();
    }
  });
  return function aim() {
    fields?.button.remove();
    fields?.panel.remove();
    trying?.remove();
    fields = settings.object ? fieldPicker(settings.object, insert) : null;
    trying = settings.object ? tryPanel(textarea, settings, postJson) : null;
    if (fields) {
      toolbar.prepend(fields.button, fields.panel);
    }
    if (trying) {
      trying.id = `${textarea.id}-try`;
      trying.hidden = Boolean(toggle) && toggle.getAttribute("aria-expanded") !== "true";
      editor.append(trying);
    }
    if (toggle) {
      toggle.hidden = !trying;
      if (!toggle.isConnected) {
        toolbar.append(toggle);
      }
    }
  };
}

function enhance(textarea) {
  const objectInput = objectSource(textarea);
  if (textarea.dataset.formulaReady !== undefined || !(textarea.dataset.object || objectInput)) {
    return;
  }
  textarea.dataset.formulaReady = "";
  const id = textarea.id || `formula-${++counter}`;
  textarea.id = id;
  const settings = {
    object: (objectInput ? objectInput.value : textarea.dataset.object) || "",
    purpose: textarea.dataset.purpose || (textarea.dataset.returnType === "checkbox" ? "condition" : "formula_field"),
    returnType: textarea.dataset.returnType || null,
  };
  const compact = textarea.dataset.formulaCompact !== undefined;
  const editor = make("div", { className: compact ? "formula-editor formula-editor-compact" : "formula-editor" });
  const toolbar = make("div", { className: "formula-toolbar" }, { role: "group", "aria-label": "Formula tools" });
  const surface = make("div", { className: "formula-surface" });
  const pre = make("pre", { className: "formula-highlight" }, { "aria-hidden": "true" });
  const status = make("div", { id: `${id}-check`, className: "formula-status" }, { "aria-live": "polite" });
  textarea.replaceWith(editor);
  surface.append(pre, textarea);
  editor.append(toolbar, surface, status);
  textarea.classList.add("formula-input");
  textarea.setAttribute("aria-describedby", [textarea.getAttribute("aria-describedby"), status.id].filter(Boolean).join(" "));

  let error = null;
  const sync = () => {
    const style = getComputedStyle(textarea);
    for (const name of COPIED) {
      pre.style[name] = style[name];
    }
    const scrollbar = textarea.offsetWidth - textarea.clientWidth - parseFloat(style.borderLeftWidth) - parseFloat(style.borderRightWidth);
    pre.style.paddingRight = `${parseFloat(style.paddingRight) + Math.max(0, scrollbar)}px`;
    pre.style.width = `${textarea.offsetWidth}px`;
    pre.style.height = `${textarea.offsetHeight}px`;
    pre.scrollTop = textarea.scrollTop;
    pre.scrollLeft = textarea.scrollLeft;
  };
  const paint = () => {
    render(pre, textarea.value, error);
    sync();
  };
  textarea.addEventListener("scroll", sync);
  new ResizeObserver(sync).observe(textarea);

  function insert(text, caretBack = 0) {
    textarea.focus();
    const { selectionStart, selectionEnd } = textarea;
    textarea.setRangeText(text, selectionStart, selectionEnd, "end");
    const caret = textarea.selectionEnd - caretBack;
    textarea.setSelectionRange(caret, caret);
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }
  const functions = functionPicker((spec) => {
    const selected = textarea.value.slice(textarea.selectionStart, textarea.selectionEnd);
    insert(`${spec.name}(${selected})`, 1);
  });
  toolbar.append(functions.button, functions.panel);
  const aim = objectParts({ editor, toolbar, textarea, settings, insert });
  aim();

  let timer = 0;
  let asked = 0;
  // The error the server gave when the form was refused: once the live check speaks for
  // the formula as it is now, that older message would only repeat or contradict it.
  function retireServerErrors() {
    const ids = (textarea.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    const kept = ids.filter((described) => {
      const element = document.getElementById(described);
      if (element?.classList.contains("field-error")) {
        element.hidden = true;
        return false;
      }
      return true;
    });
    textarea.setAttribute("aria-describedby", kept.join(" "));
  }
  function showStatus(parts, kind) {
    status.className = `formula-status formula-status-${kind}`;
    status.replaceChildren(...parts);
    // A compact box left blank (a spare value row) says nothing: many would say the same.
    status.hidden = kind === "empty" && compact && !textarea.value.trim();
  }
  function showError(found, source) {
    const message = make("p", { className: "formula-status-message" });
    // The message names the suggestion too; it is shown once, with its button, below.
    const text = found.suggestion ? found.message.replace(/; did you mean .*$/i, "") : found.message;
    const where = found.line ? ` (line ${found.line}, column ${found.column})` : "";
    message.append(make("strong", { textContent: "Error: " }), `${text}${where}`);
    const parts = [message];
    if (found.suggestion) {
      const suggestion = make("p", { className: "formula-suggestion" });
      const fix = make("button", { type: "button", className: "button-secondary formula-fix", textContent: `Use ${found.suggestion}` });
      fix.addEventListener("click", () => {
        const at = span(found, source);
        if (at && textarea.value === source) {
          textarea.setSelectionRange(at.start, at.end);
          insert(found.suggestion);
        }
      });
      suggestion.append(`Did you mean ${found.suggestion}? `, fix);
      parts.push(suggestion);
    }
    showStatus(parts, "error");
  }
  async function check() {
    const question = ++asked;
    const source = textarea.value;
    if (!source.trim() || !settings.object) {
      error = null;
      paint();
      const hint = settings.object ? "Type a formula, or insert a field or function." : "Choose the object first: the formula is checked against its fields.";
      showStatus([make("p", { textContent: hint })], "empty");
      return;
    }
    const body = { object: settings.object, expression: source, purpose: settings.purpose };
    if (settings.returnType) {
      body.return_type = settings.returnType;
    }
    let result;
    try {
      result = await postJson(textarea, "/api/v1/meta/formulas/check", body);
    } catch {
      result = { ok: false, answer: {} };
    }
    if (question !== asked || textarea.value !== source) {
      return; // a newer check is on its way
    }
    const { ok, answer } = result;
    if (ok) {
      retireServerErrors();
    }
    if (ok && answer.valid) {
      error = null;
      textarea.removeAttribute("aria-invalid");
      const type = TYPE_LABELS[answer.return_type] || answer.return_type;
      showStatus([make("p", { className: "formula-status-message", textContent: `Valid formula. Result: ${type}.` })], "valid");
    } else if (ok) {
      error = span(answer.error, source);
      textarea.setAttribute("aria-invalid", "true");
      showError(answer.error, source);
    } else {
      error = null;
      showStatus([make("p", { textContent: answer.message || "The formula could not be checked just now." })], "unknown");
    }
    paint();
  }
  textarea.addEventListener("input", () => {
    error = null;
    paint();
    clearTimeout(timer);
    timer = setTimeout(check, CHECK_DELAY_MS);
  });
  objectInput?.addEventListener("change", () => {
    const chosen = objectInput.value || "";
    if (chosen !== settings.object) {
      settings.object = chosen;
      textarea.dataset.object = chosen;
      aim();
      check();
    }
  });
  paint();
  check();
}

export function enhanceFormulaEditors(root) {
  for (const textarea of root.querySelectorAll("textarea[data-formula-editor]")) {
    enhance(textarea);
  }
}

enhanceFormulaEditors(document);
