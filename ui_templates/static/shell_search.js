// Type-ahead for the shell's search box ([data-search-form]). Without this module the
// box is a plain GET form to the search page. With it the box is an ARIA combobox: as
// the user types (debounced), the form's data-suggest-url answers with our own escaped
// <li role="option"> fragment, shown in the listbox ([data-search-suggestions]).
// ArrowDown and ArrowUp move the active option (aria-activedescendant), Enter opens it
// (or, with none active, submits the search), Escape closes the list.

const DELAY_MS = 200;
const MIN_LENGTH = 2;

function setUpTypeAhead(form) {
  const input = form.querySelector("[data-search-input]");
  const listbox = form.querySelector("[data-search-suggestions]");
  if (!input || !listbox) {
    return;
  }
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", listbox.id);
  input.setAttribute("aria-expanded", "false");
  let timer = 0;
  let asked = 0;
  let controller = null;

  const options = () => Array.from(listbox.querySelectorAll('[role="option"]'));
  const active = () => listbox.querySelector('[role="option"].is-active');

  function close() {
    listbox.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function activate(option) {
    for (const each of options()) {
      each.classList.toggle("is-active", each === option);
      each.setAttribute("aria-selected", String(each === option));
    }
    if (option) {
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  async function ask(text) {
    const number = ++asked;
    controller?.abort();
    controller = new AbortController();
    const url = new URL(form.dataset.suggestUrl, window.location.href);
    url.searchParams.set("q", text);
    try {
      const response = await fetch(url, { headers: { Accept: "text/html" }, signal: controller.signal });
      if (!response.ok || number !== asked) {
        return;
      }
      listbox.innerHTML = await response.text(); // our own escaped HTML fragment
    } catch (error) {
      return; // aborted by a newer request, or offline: the form still searches
    }
    if (number !== asked || document.activeElement !== input) {
      return;
    }
    const found = options().length > 0;
    listbox.hidden = !found;
    input.setAttribute("aria-expanded", String(found));
    activate(null);
  }

  input.addEventListener("input", () => {
    window.clearTimeout(timer);
    const text = input.value.trim();
    if (text.length < MIN_LENGTH) {
      asked++;
      close();
      return;
    }
    timer = window.setTimeout(() => ask(text), DELAY_MS);
  });

  input.addEventListener("keydown", (event) => {
    const all = options();
    const current = active();
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (listbox.hidden || all.length === 0) {
        return;
      }
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      const index = current ? all.indexOf(current) + step : step > 0 ? 0 : all.length - 1;
      activate(all[(index + all.length) % all.length]);
    } else if (event.key === "Enter" && current && !listbox.hidden) {
      event.preventDefault();
      window.location.assign(current.dataset.href);
    } else if (event.key === "Escape" && !listbox.hidden) {
      event.preventDefault();
      event.stopPropagation();
      close();
    }
  });

  // mousedown, not click: the option is chosen before the input's blur closes the list.
  listbox.addEventListener("mousedown", (event) => {
    const option = event.target.closest('[role="option"]');
    if (option) {
      event.preventDefault();
      window.location.assign(option.dataset.href);
    }
  });
  input.addEventListener("blur", close);
}

for (const form of document.querySelectorAll("[data-search-form]")) {
  setUpTypeAhead(form);
}
