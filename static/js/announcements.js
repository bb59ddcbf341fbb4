// Live preview of an announcement while it is written (progressive enhancement: the
// "Preview" button does the same without JavaScript). The server renders and sanitises.
(function () {
  "use strict";
  var form = document.querySelector("form[data-preview-url]");
  if (!form || !window.fetch) { return; }
  var body = form.querySelector("textarea[name=body]");
  var target = form.querySelector("[data-preview-target]");
  var token = form.querySelector("input[name=csrf_token]");
  if (!body || !target || !token) { return; }
  var timer = null;
  var last = null;

  function refresh() {
    if (body.value === last) { return; }
    last = body.value;
    var data = new FormData();
    data.append("csrf_token", token.value);
    data.append("body", body.value);
    fetch(form.getAttribute("data-preview-url"), { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (result) { if (result) { target.innerHTML = result.html; } })
      .catch(function () { /* the Preview button still works */ });
  }

  body.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 600);
  });
})();
