// The API documentation page: loads the tenant's OpenAPI document (with the session
// cookie, or a pasted token) and renders it with Swagger UI. A static file, so that the
// Content-Security-Policy needs no inline script.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("docs-config").textContent);
  var token = null;

  // Swagger UI before version 5 renders OpenAPI 3.0 only: express 3.1's nullable
  // types (["string", "null"]) and const the 3.0 way, for display.
  function toOpenApi30(node) {
    if (Array.isArray(node)) { return node.map(toOpenApi30); }
    if (node === null || typeof node !== "object") { return node; }
    var copy = {};
    Object.keys(node).forEach(function (key) { copy[key] = toOpenApi30(node[key]); });
    if (Array.isArray(copy.type)) {
      var kinds = copy.type.filter(function (kind) { return kind !== "null"; });
      if (kinds.length < copy.type.length) { copy.nullable = true; }
      copy.type = kinds[0];
    }
    if ("const" in copy && typeof copy["const"] !== "object") {
      copy["enum"] = [copy["const"]];
      delete copy["const"];
    }
    return copy;
  }

  function render(spec) {
    document.getElementById("docs-sign-in").hidden = true;
    if (config.needsOpenapi30) { spec = toOpenApi30(spec); spec.openapi = "3.0.3"; }
    window.ui = SwaggerUIBundle({
      spec: spec,
      dom_id: "#swagger-ui",
      deepLinking: true,
      validatorUrl: null,
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      requestInterceptor: function (request) {
        // A token pasted above is used unless Swagger's Authorize button set one; the
        // session cookie is sent anyway, and its writes need the CSRF token.
        if (token && !request.headers.Authorization) {
          request.headers.Authorization = "Bearer " + token;
        }
        if (config.csrfToken) { request.headers["X-CSRF-Token"] = config.csrfToken; }
        return request;
      }
    });
  }

  function askForToken(message) {
    document.getElementById("docs-sign-in").hidden = false;
    document.getElementById("docs-error").textContent = message || "";
  }

  function load() {
    var headers = {Accept: "application/json"};
    if (token) { headers.Authorization = "Bearer " + token; }
    fetch(config.specUrl, {credentials: "same-origin", headers: headers})
      .then(function (response) {
        return response.json().then(function (body) {
          if (response.ok) { render(body); } else { askForToken(token ? body.error : ""); }
        });
      })
      .catch(function (error) { askForToken("Could not load the document: " + error); });
  }

  document.getElementById("docs-token-form").addEventListener("submit", function (event) {
    event.preventDefault();
    token = document.getElementById("docs-token").value.trim();
    load();
  });
  load();
})();
