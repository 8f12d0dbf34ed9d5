// Starts Swagger UI on /docs (api/docs.py): in a file, since the Content-Security-Policy allows
// no inline script. The same options as FastAPI's own /docs page, and no online validator
// (it would load a badge from another host).
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  var holder = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: holder.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
});
