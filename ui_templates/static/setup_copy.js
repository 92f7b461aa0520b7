// Copy buttons: a button[data-copy-target] copies the text of the element with that id.
// Without JavaScript the buttons stay hidden and the text can be selected by hand.
for (const button of document.querySelectorAll("button[data-copy-target]")) {
  const target = document.getElementById(button.dataset.copyTarget);
  const status = button.parentElement.querySelector(".copy-status");
  if (!target || !navigator.clipboard) continue;
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(target.textContent.trim());
      if (status) status.textContent = "Copied.";
    } catch {
      if (status) status.textContent = "Copy failed: select the token and copy it.";
    }
  });
}
