// The formula editor's Try it panel: pick a record of the formula's object (the record
// type-ahead of lookup.js, over /setup/formulas/records/<object>) and see the formula's
// value on it, or the error, from POST /api/v1/meta/formulas/evaluate, which reads the
// record with the admin's own access.

import { enhanceLookups } from "./lookup.js";
import { make } from "./formula_pickers.js";

let counter = 0;

function shown(value) {
  if (value === true) {
    return "TRUE";
  }
  if (value === false) {
    return "FALSE";
  }
  if (value === null || value === undefined || value === "") {
    return "Blank";
  }
  return Array.isArray(value) ? value.join("; ") : String(value);
}

// What the value means where the formula is used: a validation rule refuses on TRUE.
function meaning(purpose, value) {
  if (purpose !== "validation_rule") {
    return "";
  }
  return value === true ? "This record breaks the rule: its save would be refused." : "This record passes the rule.";
}

export function tryPanel(textarea, settings, postJson) {
  const id = `formula-try-${++counter}`;
  const panel = make("div", { className: "formula-try" }, { role: "group", "aria-labelledby": `${id}-title` });
  const title = make("p", { id: `${id}-title`, className: "formula-try-title", textContent: "Try it on a record" });
  const box = make("div", { className: "lookup formula-try-record" }, {
    "data-lookup": "",
    "data-lookup-url": `/setup/formulas/records/${encodeURIComponent(settings.object)}`,
  });
  const label = make("label", { id: `${id}-record-label`, htmlFor: `${id}-record`, className: "formula-try-label", textContent: `${settings.object} record` });
  // No name: the record picked is the panel's, not a field of the form around it.
  box.append(make("input", { type: "text", id: `${id}-record`, placeholder: "Type part of its name" }));
  const run = make("button", { type: "button", className: "button-secondary formula-try-run", textContent: "Try it" });
  const row = make("div", { className: "formula-try-row" });
  row.append(box, run);
  const result = make("div", { className: "formula-try-result" }, { "aria-live": "polite", id: `${id}-result` });
  panel.append(title, label, row, result);
  enhanceLookups(panel);

  const recordId = () => box.querySelector("input[type='hidden']")?.value || "";
  function say(kind, ...parts) {
    result.className = `formula-try-result formula-try-${kind}`;
    result.replaceChildren(...parts);
  }
  async function evaluate() {
    if (!recordId()) {
      say("error", make("p", { textContent: "Choose a record first: type part of its name and pick it from the list." }));
      return;
    }
    const body = { object: settings.object, expression: textarea.value, record_id: recordId(), purpose: settings.purpose };
    if (settings.returnType) {
      body.return_type = settings.returnType;
    }
    let answer = {};
    let ok = false;
    try {
      ({ ok, answer } = await postJson(textarea, "/api/v1/meta/formulas/evaluate", body));
    } catch {
      answer = { message: "The formula could not be tried just now." };
    }
    if (ok && answer.valid) {
      const value = make("p", { className: "formula-try-value" });
      value.append("Value: ", make("output", { textContent: shown(answer.value) }));
      const note = meaning(settings.purpose, answer.value);
      say("value", value, ...(note ? [make("p", { className: "hint", textContent: note })] : []));
    } else if (ok) {
      say("error", make("p", { textContent: `Error: ${answer.error.message}` }));
    } else {
      say("error", make("p", { textContent: answer.message || "The formula could not be tried." }));
    }
  }
  run.addEventListener("click", evaluate);
  // Enter in the record box tries the formula rather than submitting the form around it.
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.matches("input") && !event.defaultPrevented) {
      event.preventDefault();
      evaluate();
    }
  });
  box.addEventListener("change", () => {
    if (recordId()) {
      evaluate();
    }
  });
  return panel;
}
