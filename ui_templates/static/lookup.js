// Lookup fields ([data-lookup]) as an editable combobox with a list of suggestions
// (the WAI-ARIA Authoring Practices' "combobox with list autocomplete"). Without this
// script a lookup is a plain <select> of the records the user may pick, or an input for
// the record's id; with it, the user types part of a name and picks one of the records
// the server finds ([data-lookup-url]?q=..., through the access gate).
//
// Keyboard: typing searches; Down and Up move through the suggestions (Down opens the
// list); Enter picks the highlighted record; Escape closes the list, or clears the
// field when it is closed (except inside [data-escape-cancels], where Escape cancels
// the whole edit: the record page's edit in place). Leaving the field without picking
// keeps the record it had.
//
// Lookups on the page when it loads are enhanced at once; enhanceLookups(root) does the
// same for markup added later (the record page's edit in place).

const DEBOUNCE_MS = 200;
let counter = 0;

function make(tag, properties = {}, attributes = {}) {
  const element = Object.assign(document.createElement(tag), properties);
  for (const [name, value] of Object.entries(attributes)) {
    element.setAttribute(name, value);
  }
  return element;
}

// The name with the words searched for marked, built as nodes (names are text).
function highlighted(name, text) {
  const words = text.split(/\s+/).filter(Boolean).map((word) => word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const fragment = document.createDocumentFragment();
  let last = 0;
  if (words.length) {
    for (const match of name.matchAll(new RegExp(words.join("|"), "gi"))) {
      fragment.append(name.slice(last, match.index), make("mark", { textContent: match[0] }));
      last = match.index + match[0].length;
    }
  }
  fragment.append(name.slice(last));
  return fragment;
}

function enhance(box) {
  const original = box.querySelector("select, input");
  const url = box.dataset.lookupUrl;
  if (!original || !url || box.dataset.lookupReady) {
    return;
  }
  box.dataset.lookupReady = "";
  const escapeCancels = Boolean(box.closest("[data-escape-cancels]"));
  const listId = `lookup-list-${++counter}`;
  const startName =
    original.tagName === "SELECT" && original.value
      ? original.selectedOptions[0]?.textContent.trim() || ""
      : box.dataset.lookupName || "";
  const hidden = make("input", { type: "hidden", name: original.name, value: original.value });
  const input = make(
    "input",
    { type: "text", id: original.id, value: original.value ? startName || original.value : "", className: "lookup-input" },
    {
      role: "combobox",
      "aria-autocomplete": "list",
      "aria-expanded": "false",
      "aria-controls": listId,
      autocomplete: "off",
      spellcheck: "false",
      "data-control": "",
    },
  );
  for (const name of ["aria-describedby", "aria-invalid", "aria-required"]) {
    if (original.hasAttribute(name)) {
      input.setAttribute(name, original.getAttribute(name));
    }
  }
  // The hint asks for an id, which the combobox does not need.
  const hint = box.querySelector("[data-lookup-hint]");
  if (hint) {
    const described = (input.getAttribute("aria-describedby") || "").split(" ").filter((id) => id && id !== hint.id);
    if (described.length) {
      input.setAttribute("aria-describedby", described.join(" "));
    } else {
      input.removeAttribute("aria-describedby");
    }
    hint.remove();
  }
  if (original.disabled || original.readOnly) {
    input.readOnly = true;
  }
  const list = make("ul", { id: listId, className: "lookup-list", hidden: true }, {
    role: "listbox",
    "aria-labelledby": `${original.id}-label`,
  });
  const status = make("p", { className: "visually-hidden" }, { role: "status" });
  original.replaceWith(input);
  input.after(hidden, list, status);

  let chosen = { id: hidden.value, name: input.value };
  let found = [];
  let active = -1;
  let timer = 0;
  let asked = 0;

  const isOpen = () => !list.hidden;
  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }
  function highlight(index) {
    active = index;
    list.querySelectorAll("[role='option']").forEach((option, position) => {
      option.setAttribute("aria-selected", String(position === index));
      if (position === index) {
        input.setAttribute("aria-activedescendant", option.id);
        option.scrollIntoView({ block: "nearest" });
      }
    });
  }
  function show(records, more, text) {
    found = records;
    list.replaceChildren(
      ...records.map((record, index) => {
        const option = make("li", { id: `${listId}-${index}`, className: "lookup-option" }, {
          role: "option",
          "aria-selected": "false",
        });
        option.append(highlighted(record.name, text));
        option.addEventListener("mousedown", (event) => event.preventDefault());
        option.addEventListener("click", () => pick(index));
        return option;
      }),
    );
    if (more) {
      list.append(make("li", { className: "lookup-more", textContent: "Type more of the name to narrow these down." }, { role: "presentation" }));
    }
    const open = records.length > 0;
    list.hidden = !open;
    input.setAttribute("aria-expanded", String(open));
    active = -1;
    input.removeAttribute("aria-activedescendant");
    status.textContent = open
      ? `${records.length}${more ? " or more" : ""} record${records.length === 1 ? "" : "s"} found. Use Down to choose.`
      : "No records found.";
  }
  async function search() {
    const question = ++asked;
    const text = input.value.trim();
    try {
      const response = await fetch(`${url}?q=${encodeURIComponent(text)}`, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok || question !== asked || document.activeElement !== input) {
        return;
      }
      const answer = await response.json();
      show(answer.data || [], Boolean(answer.more), text);
    } catch {
      // Offline: the field keeps what it had.
    }
  }
  function choose(record) {
    chosen = record;
    hidden.value = record.id;
    input.value = record.name;
    hidden.dispatchEvent(new Event("change", { bubbles: true }));
  }
  function pick(index) {
    const record = found[index];
    if (record) {
      choose(record);
      status.textContent = `${record.name} chosen.`;
    }
    close();
  }

  input.addEventListener("input", () => {
    if (input.readOnly) {
      return;
    }
    if (!input.value.trim() && chosen.id) {
      choose({ id: "", name: "" });
    }
    clearTimeout(timer);
    timer = setTimeout(search, DEBOUNCE_MS);
  });
  input.addEventListener("keydown", (event) => {
    if (input.readOnly) {
      return;
    }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!isOpen()) {
        search();
        return;
      }
      const step = event.key === "ArrowDown" ? 1 : -1;
      highlight((active + step + found.length) % found.length);
    } else if (event.key === "Enter" && isOpen() && active >= 0) {
      event.preventDefault();
      pick(active);
    } else if (event.key === "Escape") {
      if (isOpen()) {
        event.preventDefault();
        close();
      } else if (input.value && !escapeCancels) {
        event.preventDefault();
        choose({ id: "", name: "" });
      }
    }
  });
  input.addEventListener("blur", () => {
    close();
    if (input.value !== chosen.name) {
      input.value = chosen.name;
    }
  });
}

export function enhanceLookups(root) {
  for (const box of root.querySelectorAll("[data-lookup]")) {
    enhance(box);
  }
}

enhanceLookups(document);
