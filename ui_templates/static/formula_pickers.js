// The formula editor's pickers: a button that opens a panel with a search box and a
// listbox of choices (the WAI-ARIA "combobox with listbox popup" pattern: focus stays in
// the search box, Down and Up move the active option, Enter picks it, Escape closes the
// panel and returns to the button). The field picker opens a lookup to list the fields
// of the record it points at (Account → Account.Owner → Account.Owner.Email), fetched
// the first time; Left (or Backspace in an empty search) goes back up.

let counter = 0;
const MAX_HOPS = 2; // as the formula language allows (metadata/formulas.py MAX_PATH_DEPTH)

export function make(tag, properties = {}, attributes = {}) {
  const element = Object.assign(document.createElement(tag), properties);
  for (const [name, value] of Object.entries(attributes)) {
    element.setAttribute(name, value);
  }
  return element;
}

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  if (!response.ok) {
    throw new Error(`${response.status}`);
  }
  return response.json();
}

// A picker: ``load()`` gives the current choices [{key, label, detail, note, opens}],
// ``choose(choice)`` acts on one (returning true closes the panel).
function picker({ label, searchLabel, load, choose, crumbs, back }) {
  const id = `formula-picker-${++counter}`;
  const button = make("button", { type: "button", className: "button-secondary formula-tool", textContent: label }, {
    "aria-haspopup": "listbox",
    "aria-expanded": "false",
    "aria-controls": `${id}-panel`,
  });
  const panel = make("div", { id: `${id}-panel`, className: "formula-picker", hidden: true });
  const trail = make("p", { className: "formula-picker-trail", id: `${id}-trail` });
  const searchLabelElement = make("label", { className: "visually-hidden", htmlFor: `${id}-search`, textContent: searchLabel });
  const search = make("input", { type: "text", id: `${id}-search`, className: "formula-picker-search", placeholder: "Type to filter" }, {
    role: "combobox",
    "aria-autocomplete": "list",
    "aria-expanded": "true",
    "aria-controls": `${id}-list`,
    "aria-describedby": `${id}-trail`,
    autocomplete: "off",
    spellcheck: "false",
  });
  const list = make("ul", { id: `${id}-list`, className: "formula-picker-list" }, { role: "listbox", "aria-label": searchLabel });
  const status = make("p", { className: "visually-hidden" }, { role: "status" });
  panel.append(trail, searchLabelElement, search, list, status);
  let shown = [];
  let active = -1;

  function highlight(index) {
    active = index;
    list.querySelectorAll("[role='option']").forEach((option, position) => {
      option.setAttribute("aria-selected", String(position === index));
      if (position === index) {
        search.setAttribute("aria-activedescendant", option.id);
        option.scrollIntoView({ block: "nearest" });
      }
    });
    if (index < 0) {
      search.removeAttribute("aria-activedescendant");
    }
  }
  async function refresh() {
    trail.textContent = crumbs ? crumbs() : "";
    trail.hidden = !trail.textContent;
    let choices = [];
    try {
      choices = await load();
    } catch {
      status.textContent = "The list could not be loaded.";
    }
    const words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    shown = choices.filter((choice) => words.every((word) => `${choice.key} ${choice.label}`.toLowerCase().includes(word)));
    list.replaceChildren(
      ...shown.map((choice, index) => {
        const option = make("li", { id: `${id}-option-${index}`, className: "formula-option" }, { role: "option", "aria-selected": "false" });
        option.append(make("span", { className: "formula-option-name", textContent: choice.key }));
        if (choice.detail) {
          option.append(make("code", { className: "formula-option-detail", textContent: choice.detail }));
        }
        if (choice.note) {
          option.append(make("span", { className: "formula-option-note", textContent: choice.note }));
        }
        option.addEventListener("mousedown", (event) => event.preventDefault());
        option.addEventListener("click", () => pick(index));
        return option;
      }),
    );
    if (!shown.length) {
      list.append(make("li", { className: "formula-option-empty", textContent: "Nothing matches." }, { role: "presentation" }));
    }
    status.textContent = `${shown.length} choice${shown.length === 1 ? "" : "s"}.`;
    highlight(shown.length ? 0 : -1);
  }
  async function pick(index) {
    const choice = shown[index];
    if (choice && (await choose(choice))) {
      close(false);
    } else if (choice) {
      search.value = "";
      await refresh();
      search.focus();
    }
  }
  function open() {
    panel.hidden = false;
    button.setAttribute("aria-expanded", "true");
    search.value = "";
    refresh();
    search.focus();
  }
  function close(returnFocus = true) {
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
    if (returnFocus) {
      button.focus();
    }
  }
  button.addEventListener("click", () => (panel.hidden ? open() : close()));
  search.addEventListener("input", refresh);
  search.addEventListener("keydown", async (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (shown.length) {
        const step = event.key === "ArrowDown" ? 1 : -1;
        highlight((active + step + shown.length) % shown.length);
      }
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (active >= 0) {
        pick(active);
      }
    } else if (event.key === "Escape") {
      event.preventDefault();
      close();
    } else if (back && (event.key === "ArrowLeft" || event.key === "Backspace") && !search.value) {
      if (back()) {
        event.preventDefault();
        refresh();
      }
    }
  });
  panel.addEventListener("focusout", (event) => {
    if (!panel.contains(event.relatedTarget) && event.relatedTarget !== button) {
      close(false);
    }
  });
  return { button, panel };
}

// The field picker of ``objectName``'s formulas; ``insert(text)`` puts a path in.
export function fieldPicker(objectName, insert) {
  const cache = new Map();
  const path = []; // [{name, target}] of the lookups opened
  const fieldsOf = async (name) => {
    if (!cache.has(name)) {
      cache.set(name, getJson(`/setup/formulas/fields/${encodeURIComponent(name)}`));
    }
    try {
      return (await cache.get(name)).data;
    } catch (error) {
      cache.delete(name);
      throw error;
    }
  };
  const prefix = () => path.map((step) => `${step.name}.`).join("");
  return picker({
    label: "Insert field",
    searchLabel: "Fields",
    crumbs: () => (path.length ? `In ${prefix().slice(0, -1)} (Left goes back)` : ""),
    back: () => (path.length ? (path.pop(), true) : false),
    load: async () => {
      const current = path.length ? path[path.length - 1].target : objectName;
      const fields = await fieldsOf(current);
      const choices = fields.map((field) => ({
        key: field.name,
        label: field.label,
        note: field.target && path.length < MAX_HOPS ? `${field.label} → ${field.target} fields` : `${field.label} · ${field.type}`,
        opens: field.target && path.length < MAX_HOPS ? field.target : null,
      }));
      return path.length ? [{ key: "..", label: "Back", note: "Back up a level", back: true }, ...choices] : choices;
    },
    choose: async (choice) => {
      if (choice.back) {
        path.pop();
        return false;
      }
      if (choice.opens) {
        path.push({ name: choice.key, target: choice.opens });
        return false;
      }
      insert(prefix() + choice.key);
      path.length = 0;
      return true;
    },
  });
}

// The function picker: every function of the language, from the server's registry.
export function functionPicker(insertCall) {
  let loaded = null;
  return picker({
    label: "Insert function",
    searchLabel: "Functions",
    load: async () => {
      loaded = loaded || getJson("/setup/formulas/functions").catch((error) => {
        loaded = null;
        throw error;
      });
      const functions = (await loaded).data;
      return functions.map((spec) => ({
        key: spec.name,
        label: `${spec.category} ${spec.description}`,
        detail: spec.signature,
        note: `${spec.category} · ${spec.description}`,
        spec,
      }));
    },
    choose: async (choice) => {
      insertCall(choice.spec);
      return true;
    },
  });
}
