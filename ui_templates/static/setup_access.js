// Setup → Access: a Copy button for a one-time link, and a filter over a long list of
// users to tick. Both only enhance: the link can be selected by hand, and every user is
// listed without JavaScript.

for (const button of document.querySelectorAll("[data-copy-button]")) {
  const source = document.querySelector("[data-copy-source]");
  const status = document.querySelector("[data-copy-status]");
  if (!source || !navigator.clipboard) continue;
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(source.value);
      if (status) status.textContent = "Copied.";
    } catch {
      source.select();
      if (status) status.textContent = "Press Ctrl+C (or ⌘C) to copy the selected link.";
    }
  });
}

for (const input of document.querySelectorAll("[data-filter-target]")) {
  const list = document.querySelector(input.dataset.filterTarget);
  if (!list) continue;
  input.hidden = false;
  input.addEventListener("input", () => {
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    for (const item of list.querySelectorAll("[data-filter-text]")) {
      const text = item.dataset.filterText;
      // A ticked member stays in view, so the filter never hides a choice already made.
      const ticked = item.querySelector("input")?.checked;
      item.hidden = !ticked && !words.every((word) => text.includes(word));
    }
  });
}
