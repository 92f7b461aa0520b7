// The record form's enhancements. The form works without them (the server applies
// conditions, times are in UTC, rich text is its HTML in a text area). With them:
// - conditional fields ([data-conditional]) follow what the user types: the form's
//   values go, debounced, to the form's conditions endpoint, which evaluates the
//   fields' visible/required/read-only formulas on the server and answers for each;
// - a date and time ([data-datetime]) is entered in the user's own time zone and sent
//   as an ISO time with its offset;
// - rich text ([data-rich-text]) is edited in place, with a small toolbar;
// - the error summary ([data-error-summary]) takes the focus, and its links focus
//   their field even where the field's own control is replaced by a script.
// enhanceWidgets(root) gives the times and rich text of any markup holding the form
// widgets the same treatment (the record page's edit in place uses them).

const DEBOUNCE_MS = 250;

function fieldBox(form, name) {
  return form.querySelector(`[data-field="${CSS.escape(name)}"]`);
}

function applyConditions(form, fields, status) {
  const shown = [];
  const hidden = [];
  for (const [name, state] of Object.entries(fields)) {
    const box = fieldBox(form, name);
    if (!box) {
      continue;
    }
    const label = box.querySelector(".form-label, label")?.firstChild?.textContent?.trim() || name;
    if (box.hidden === state.visible) {
      (state.visible ? shown : hidden).push(label);
    }
    box.hidden = !state.visible;
    const required = state.required || box.hasAttribute("data-always-required");
    for (const mark of box.querySelectorAll(".required-mark")) {
      mark.hidden = !required;
    }
    for (const control of box.querySelectorAll("[data-control]")) {
      // A group's boxes are not each required: its legend carries the mark.
      if (!control.closest(".checkbox-group")) {
        if (required) {
          control.setAttribute("aria-required", "true");
        } else {
          control.removeAttribute("aria-required");
        }
      }
      lock(control, state.read_only);
    }
  }
  const words = [];
  if (shown.length) {
    words.push(`Now shown: ${shown.join(", ")}.`);
  }
  if (hidden.length) {
    words.push(`Now hidden: ${hidden.join(", ")}.`);
  }
  if (status && words.length) {
    status.textContent = words.join(" ");
  }
}

function lock(control, locked) {
  if (control.isContentEditable || control.getAttribute("contenteditable") !== null) {
    control.contentEditable = locked ? "false" : "true";
    control.setAttribute("aria-readonly", String(locked));
  } else if (control.tagName === "SELECT" || control.type === "checkbox") {
    control.disabled = locked;
  } else {
    control.readOnly = locked;
  }
}

function setUpConditions(form) {
  const url = form.dataset.conditionsUrl;
  if (!url || !form.querySelector("[data-conditional]")) {
    return;
  }
  const token = form.querySelector("input[name='csrf_token']")?.value || "";
  const status = form.querySelector("[data-form-status]");
  let timer = 0;
  let asked = 0;
  async function ask() {
    const question = ++asked;
    try {
      const response = await fetch(url, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        headers: { "X-CSRF-Token": token, Accept: "application/json" },
        credentials: "same-origin",
      });
      // An older answer arriving late must not undo a newer one.
      if (!response.ok || question !== asked) {
        return;
      }
      const answer = await response.json();
      applyConditions(form, answer.fields || {}, status);
    } catch {
      // Offline or interrupted: the server checks the conditions again on save.
    }
  }
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(ask, DEBOUNCE_MS);
  };
  form.addEventListener("input", soon);
  form.addEventListener("change", soon);
}

function pad(number) {
  return String(number).padStart(2, "0");
}

function localInputValue(date) {
  const text = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
  return date.getSeconds() ? `${text}:${pad(date.getSeconds())}` : text;
}

function setUpLocalTimes(form) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  for (const input of form.querySelectorAll("input[data-datetime]")) {
    // The visible input holds local time; a hidden one sends it as an ISO instant.
    const sent = document.createElement("input");
    sent.type = "hidden";
    sent.name = input.name;
    input.removeAttribute("name");
    input.after(sent);
    if (input.value) {
      const utc = new Date(`${input.value}Z`);
      if (!Number.isNaN(utc.getTime())) {
        input.value = localInputValue(utc);
      }
    }
    const sync = () => {
      const local = input.value ? new Date(input.value) : null;
      sent.value = local && !Number.isNaN(local.getTime()) ? local.toISOString() : input.value;
    };
    sync();
    input.addEventListener("input", sync);
    input.addEventListener("change", sync);
    const hint = document.getElementById(`${input.id}-zone`);
    if (hint && zone) {
      hint.textContent = `Your time zone (${zone})`;
    }
  }
}

const FORMATS = [
  ["bold", "Bold", "B"],
  ["italic", "Italic", "I"],
  ["insertUnorderedList", "Bulleted list", "• List"],
  ["insertOrderedList", "Numbered list", "1. List"],
];

// A toolbar is one tab stop; Left and Right (Home, End) move between its buttons.
function rovingFocus(toolbar, buttons) {
  buttons.forEach((button, index) => {
    button.tabIndex = index === 0 ? 0 : -1;
  });
  toolbar.addEventListener("keydown", (event) => {
    const current = buttons.indexOf(document.activeElement);
    const moves = { ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: buttons.length - 1 };
    if (current < 0 || !(event.key in moves)) {
      return;
    }
    event.preventDefault();
    const next = buttons[(moves[event.key] + buttons.length) % buttons.length];
    for (const button of buttons) {
      button.tabIndex = button === next ? 0 : -1;
    }
    next.focus();
  });
}

function setUpRichText(form) {
  for (const box of form.querySelectorAll("[data-rich-text]")) {
    const source = box.querySelector("textarea");
    const initial = box.querySelector("template[data-rich-text-initial]");
    if (!source || !initial) {
      continue;
    }
    const editor = document.createElement("div");
    editor.className = "rich-text-editor";
    editor.contentEditable = "true";
    editor.id = `${source.id}-editor`;
    editor.setAttribute("role", "textbox");
    editor.setAttribute("aria-multiline", "true");
    editor.setAttribute("aria-labelledby", `${source.id}-label`);
    for (const name of ["aria-describedby", "aria-invalid", "aria-required"]) {
      if (source.hasAttribute(name)) {
        editor.setAttribute(name, source.getAttribute(name));
      }
    }
    // The server's sanitised HTML, cloned from an inert template (nothing in it runs).
    editor.append(initial.content.cloneNode(true));
    editor.dataset.control = "";
    source.removeAttribute("data-control");
    const toolbar = document.createElement("div");
    toolbar.className = "rich-text-toolbar";
    toolbar.setAttribute("role", "toolbar");
    toolbar.setAttribute("aria-label", "Formatting");
    toolbar.setAttribute("aria-controls", editor.id);
    const buttons = FORMATS.map(([command, name, text]) => {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = text;
      button.setAttribute("aria-label", name);
      button.title = name;
      button.setAttribute("aria-pressed", "false");
      // Keep the selection in the editor while the button is pressed.
      button.addEventListener("mousedown", (event) => event.preventDefault());
      button.addEventListener("click", () => {
        editor.focus();
        document.execCommand(command);
        sync();
        editor.dispatchEvent(new Event("input", { bubbles: true }));
      });
      toolbar.append(button);
      return [command, button];
    });
    rovingFocus(toolbar, buttons.map(([, button]) => button));
    const sync = () => {
      source.value = editor.innerHTML;
      for (const [command, button] of buttons) {
        button.setAttribute("aria-pressed", String(document.queryCommandState(command)));
      }
    };
    editor.addEventListener("input", sync);
    document.addEventListener("selectionchange", () => {
      if (editor.contains(document.getSelection()?.anchorNode)) {
        sync();
      }
    });
    source.hidden = true;
    source.before(toolbar, editor);
    document.getElementById(`${source.id}-label`)?.addEventListener("click", () => editor.focus());
  }
}

function setUpErrorSummary(form) {
  const summary = form.querySelector("[data-error-summary]");
  if (!summary) {
    return;
  }
  summary.focus();
  summary.addEventListener("click", (event) => {
    const link = event.target.closest("a[href^='#']");
    const target = link && document.getElementById(link.hash.slice(1));
    if (!target) {
      return;
    }
    event.preventDefault();
    const shown = target.offsetParent !== null;
    const control = shown ? target : target.closest("[data-field]")?.querySelector("[data-control]");
    (control || target).focus();
  });
}

export function enhanceWidgets(root) {
  setUpLocalTimes(root);
  setUpRichText(root);
}

const recordForm = document.querySelector("form[data-record-form]");
if (recordForm) {
  enhanceWidgets(recordForm);
  setUpConditions(recordForm);
  setUpErrorSummary(recordForm);
}
