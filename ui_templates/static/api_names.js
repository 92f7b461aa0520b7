// API names suggested from labels as the admin types, until they edit the name
// themselves (the server derives the same, trellis.views.setup.naming.api_name_from,
// when it is left blank): for every input [data-api-name-from="<id of the label box>"].

export function apiNameFrom(label) {
  let name = label.normalize("NFKD").replace(/[^\x00-\x7F]/g, "");
  name = name.replace(/[^A-Za-z0-9]+/g, "_").replace(/^_+|_+$/g, "").replace(/_+/g, "_");
  if (!name) {
    return "";
  }
  if (!/^[A-Za-z]/.test(name)) {
    name = `X${name}`;
  }
  return name.slice(0, 63).replace(/_+$/, "");
}

export function suggestApiNames(root) {
  for (const target of root.querySelectorAll("[data-api-name-from]")) {
    const source = document.getElementById(target.dataset.apiNameFrom);
    if (!source) {
      continue;
    }
    let touched = target.value !== "" && target.value !== apiNameFrom(source.value);
    target.addEventListener("input", () => {
      touched = target.value !== "";
    });
    source.addEventListener("input", () => {
      if (!touched) {
        target.value = apiNameFrom(source.value);
      }
    });
    // A label typed before this script ran (a slow connection) gets its name too.
    if (target.value === "" && source.value !== "") {
      target.value = apiNameFrom(source.value);
    }
  }
}
