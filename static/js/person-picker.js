// The person picker as an ARIA 1.2 combobox (progressive enhancement of the "person_picker" macro):
// the search field asks the server for matching names as one types; a chosen person is added to the
// ticked list above it. Without JavaScript the "Search" button sends the form back instead. No inline
// script and no innerHTML: the page's CSP allows scripts from our own origin only.
(function () {
  "use strict";
  if (!window.fetch) { return; }

  function words(template, name, value) { return template.split("{" + name + "}").join(value); }

  function setUp(picker) {
    var input = picker.querySelector("input[name$='-q']");
    var listbox = picker.querySelector("[role=listbox]");
    var people = picker.querySelector("[data-picker-people]");
    var status = picker.querySelector("[data-picker-status]");
    var fallback = picker.querySelector("[data-picker-fallback]");
    if (!input || !listbox || !people || !status) { return; }
    var url = picker.getAttribute("data-search-url");
    var name = picker.getAttribute("data-name");
    var kind = picker.getAttribute("data-kind");
    var found = [];
    var active = -1;
    var timer = null;
    var asked = 0;

    // The search button would send the form; Enter in any field must not run a search instead of saving.
    if (fallback) { fallback.parentNode.removeChild(fallback); }
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listbox.id);

    function close() {
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function mark(index) {
      var options = listbox.querySelectorAll("[role=option]");
      for (var i = 0; i < options.length; i++) {
        options[i].setAttribute("aria-selected", i === index ? "true" : "false");
      }
      active = index;
      if (index >= 0 && options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function show(list) {
      found = list;
      while (listbox.firstChild) { listbox.removeChild(listbox.firstChild); }
      list.forEach(function (person, index) {
        var option = document.createElement("li");
        option.id = listbox.id + "-" + person.id;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.className = "person-picker__option";
        option.textContent = person.unit ? person.name + " (" + person.unit + ")" : person.name;
        option.addEventListener("mousedown", function (event) { event.preventDefault(); });
        option.addEventListener("click", function () { choose(index); });
        listbox.appendChild(option);
      });
      if (list.length) {
        listbox.hidden = false;
        input.setAttribute("aria-expanded", "true");
        status.textContent = words(picker.getAttribute("data-found"), "num", String(list.length));
      } else {
        close();
        status.textContent = picker.getAttribute("data-found-none");
      }
      active = -1;
    }

    function choose(index) {
      var person = found[index];
      if (!person) { return; }
      var id = picker.id + "-" + person.id;
      var box = document.getElementById(id);
      var message = "data-chosen";
      if (box) {
        if (box.checked) { message = "data-chosen-before"; }
      } else {
        var row = document.createElement("div");
        row.className = "kern-form-check";
        box = document.createElement("input");
        box.type = kind;
        box.className = "kern-form-check__" + kind;
        box.id = id;
        box.name = name;
        box.value = String(person.id);
        var label = document.createElement("label");
        label.className = "kern-label";
        label.htmlFor = id;
        label.textContent = person.name + " ";
        if (person.unit) {
          var unit = document.createElement("span");
          unit.className = "person-picker__unit";
          unit.textContent = "(" + person.unit + ")";
          label.appendChild(unit);
        }
        row.appendChild(box);
        row.appendChild(label);
        people.appendChild(row);
      }
      box.checked = true;
      input.value = "";
      close();
      status.textContent = words(picker.getAttribute(message), "name", person.name);
    }

    function search() {
      var needle = input.value.trim();
      if (needle.length < 2) { close(); status.textContent = ""; return; }
      var ticket = ++asked;
      fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(needle),
            { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (answer) { if (answer && ticket === asked) { show(answer.people || []); } })
        .catch(function () { /* the list of people chosen stays as it is */ });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(search, 250);
    });
    input.addEventListener("keydown", function (event) {
      var open = !listbox.hidden;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!open && found.length) { listbox.hidden = false; input.setAttribute("aria-expanded", "true"); }
        mark(Math.min(active + 1, found.length - 1));
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        mark(Math.max(active - 1, 0));
      } else if (event.key === "Enter") {
        event.preventDefault();  // Enter in the search field chooses; it never sends the form
        if (open && active >= 0) { choose(active); }
      } else if (event.key === "Escape") {
        if (open) { event.preventDefault(); close(); } else { input.value = ""; }
      }
    });
    input.addEventListener("blur", function () { window.setTimeout(close, 150); });
  }

  var pickers = document.querySelectorAll("[data-person-picker]");
  for (var i = 0; i < pickers.length; i++) { setUp(pickers[i]); }
})();
