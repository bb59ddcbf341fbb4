// The lesson editor's conveniences (templates/training/editor/lesson.html). Without JavaScript the page works
// alone: two sections (German, English), text areas and a "Preview" button that asks the server. With it:
// the two sections become tabs, each text area gets a Markdown toolbar, images from the media library are
// inserted with a button, and a live preview asks the server (the same renderer and sanitiser as for learners)
// as one types. No inline script and no innerHTML: the page's CSP allows scripts from our own origin only.
(function () {
  "use strict";

  var form = document.querySelector("[data-editor-form]");
  if (!form) { return; }
  var lastArea = form.querySelector("textarea[data-editor]");

  function sample(name) { return form.getAttribute("data-sample-" + name) || ""; }

  // Tabs ---------------------------------------------------------------------------------------

  function setUpTabs(container) {
    var panels = Array.prototype.slice.call(container.querySelectorAll("[data-language]"));
    if (panels.length < 2) { return; }
    var list = document.createElement("div");
    list.className = "editor-tabs__list";
    list.setAttribute("role", "tablist");
    var tabs = panels.map(function (panel) {
      var heading = panel.querySelector("h2");
      var tab = document.createElement("button");
      tab.type = "button";
      tab.className = "editor-tabs__tab";
      tab.id = panel.id + "-tab";
      tab.setAttribute("role", "tab");
      tab.setAttribute("aria-controls", panel.id);
      tab.textContent = heading ? heading.textContent : panel.getAttribute("data-language");
      panel.setAttribute("role", "tabpanel");
      panel.setAttribute("aria-labelledby", tab.id);
      panel.setAttribute("tabindex", "-1");
      if (heading) { heading.classList.add("visually-hidden"); }
      list.appendChild(tab);
      return tab;
    });
    list.setAttribute("aria-label", form.getAttribute("data-tabs-label") || "");
    container.insertBefore(list, panels[0]);

    function select(index, focus) {
      tabs.forEach(function (tab, i) {
        var chosen = i === index;
        tab.setAttribute("aria-selected", chosen ? "true" : "false");
        tab.tabIndex = chosen ? 0 : -1;
        panels[i].hidden = !chosen;
      });
      if (focus) { tabs[index].focus(); }
      var area = panels[index].querySelector("textarea[data-editor]");
      if (area) { lastArea = area; refresh(area); }
    }

    tabs.forEach(function (tab, index) {
      tab.addEventListener("click", function () { select(index, false); });
      tab.addEventListener("keydown", function (event) {
        var next = null;
        if (event.key === "ArrowRight") { next = (index + 1) % tabs.length; }
        if (event.key === "ArrowLeft") { next = (index - 1 + tabs.length) % tabs.length; }
        if (event.key === "Home") { next = 0; }
        if (event.key === "End") { next = tabs.length - 1; }
        if (next !== null) { event.preventDefault(); select(next, true); }
      });
    });
    // Open the tab with an error in it, else the German one.
    var withError = panels.findIndex(function (panel) { return panel.querySelector("[aria-invalid=true]"); });
    select(withError >= 0 ? withError : 0, false);
  }

  // Inserting Markdown -------------------------------------------------------------------------

  function insert(area, before, placeholder, after, linewise) {
    var start = area.selectionStart, end = area.selectionEnd, text = area.value;
    var chosen = text.slice(start, end) || placeholder;
    var prefix = "";
    if (linewise && start > 0 && text.charAt(start - 1) !== "\n") { prefix = "\n\n"; }
    var replacement;
    if (linewise && before && chosen.indexOf("\n") >= 0) {
      replacement = chosen.split("\n").map(function (line) { return before + line; }).join("\n") + after;
    } else {
      replacement = before + chosen + after;
    }
    area.value = text.slice(0, start) + prefix + replacement + text.slice(end);
    var from = start + prefix.length + before.length;
    area.focus();
    area.setSelectionRange(from, from + chosen.length);
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function insertBlock(area, block) {
    var start = area.selectionStart, text = area.value;
    var prefix = start > 0 && text.charAt(start - 1) !== "\n" ? "\n\n" : (start > 0 ? "\n" : "");
    area.value = text.slice(0, start) + prefix + block + "\n" + text.slice(area.selectionEnd);
    var caret = start + prefix.length + block.length + 1;
    area.focus();
    area.setSelectionRange(caret, caret);
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }

  var ACTIONS = {
    heading: function (area) { insert(area, "## ", sample("heading"), "", true); },
    bold: function (area) { insert(area, "**", sample("bold"), "**", false); },
    list: function (area) { insert(area, "- ", sample("item"), "", true); },
    numbered: function (area) { insert(area, "1. ", sample("item"), "", true); },
    link: function (area) { insert(area, "[", sample("link"), "](https://)", false); },
    table: function (area) {
      var column = sample("column"), cell = sample("cell");
      insertBlock(area, "| " + column + " 1 | " + column + " 2 |\n| --- | --- |\n| " + cell + " | " + cell + " |");
    },
    callout: function (area) {
      insertBlock(area, "!!! tip \"" + sample("callout") + "\"\n    " + sample("callout-text"));
    },
    image: function (area) {
      lastArea = area;
      var picker = document.getElementById("media-picker");
      if (picker) {
        picker.scrollIntoView({ block: "start" });
        var first = picker.querySelector("[data-insert-media]");
        (first || picker).focus();
      }
    }
  };

  function setUpToolbar(toolbar) {
    var area = document.getElementById(toolbar.getAttribute("data-toolbar-for"));
    if (!area) { return; }
    var buttons = Array.prototype.slice.call(toolbar.querySelectorAll("button[data-insert]"));
    buttons.forEach(function (button, index) {
      button.tabIndex = index === 0 ? 0 : -1;
      button.addEventListener("click", function () {
        var action = ACTIONS[button.getAttribute("data-insert")];
        if (action) { action(area); }
      });
      // One stop in the tab order; the arrow keys move within the toolbar (the ARIA toolbar pattern).
      button.addEventListener("keydown", function (event) {
        var next = null;
        if (event.key === "ArrowRight") { next = (index + 1) % buttons.length; }
        if (event.key === "ArrowLeft") { next = (index - 1 + buttons.length) % buttons.length; }
        if (event.key === "Home") { next = 0; }
        if (event.key === "End") { next = buttons.length - 1; }
        if (next !== null) {
          event.preventDefault();
          button.tabIndex = -1;
          buttons[next].tabIndex = 0;
          buttons[next].focus();
        }
      });
    });
    area.parentNode.insertBefore(toolbar, area);  // between the label with its hint and the text area
    toolbar.hidden = false;
  }

  // Live preview -------------------------------------------------------------------------------

  var live = document.querySelector("[data-live-preview]");
  var output = live ? live.querySelector("[data-live-output]") : null;
  var timer = null;
  var asked = 0;

  function show(html) {
    var parsed = new DOMParser().parseFromString("<div>" + html + "</div>", "text/html");
    var nodes = Array.prototype.slice.call(parsed.body.firstChild.childNodes).map(function (node) {
      return document.importNode(node, true);
    });
    while (output.firstChild) { output.removeChild(output.firstChild); }
    nodes.forEach(function (node) { output.appendChild(node); });
  }

  function refresh(area) {
    if (!output || !window.fetch || !window.FormData) { return; }
    var language = area.getAttribute("data-editor") || "de";
    output.setAttribute("lang", language);
    var data = new FormData();
    var token = form.querySelector("input[name=csrf_token]");
    data.append("csrf_token", token ? token.value : "");
    data.append("text", area.value);
    data.append("language", language);
    data.append("slug", form.getAttribute("data-slug") || "");
    var ticket = ++asked;
    fetch(form.getAttribute("data-preview-url"), {
      method: "POST", body: data, credentials: "same-origin", headers: { "Accept": "text/html" }
    }).then(function (response) {
      if (!response.ok) { throw new Error("preview " + response.status); }
      return response.text();
    }).then(function (html) {
      if (ticket === asked) { show(html); }
    }).catch(function () {
      if (ticket !== asked) { return; }
      while (output.firstChild) { output.removeChild(output.firstChild); }
      var note = document.createElement("p");
      note.className = "kern-body";
      note.textContent = form.getAttribute("data-live-failed") || "";
      output.appendChild(note);
    });
  }

  Array.prototype.forEach.call(form.querySelectorAll("textarea[data-editor]"), function (area) {
    area.addEventListener("focus", function () { lastArea = area; });
    area.addEventListener("input", function () {
      lastArea = area;
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { refresh(area); }, 500);
    });
  });

  // Images from the media library --------------------------------------------------------------

  Array.prototype.forEach.call(document.querySelectorAll("[data-insert-media]"), function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      if (!lastArea) { return; }
      var tab = document.getElementById(lastArea.closest("[data-language]").id + "-tab");
      if (tab && tab.getAttribute("aria-selected") !== "true") { tab.click(); }
      insertBlock(lastArea, button.getAttribute("data-insert-media"));
    });
  });

  Array.prototype.forEach.call(form.querySelectorAll("[data-toolbar-for]"), setUpToolbar);
  if (live) { live.hidden = false; }
  var tabs = form.querySelector("[data-editor-tabs]");
  if (tabs) { setUpTabs(tabs); }
  if (lastArea && !tabs) { refresh(lastArea); }
}());
