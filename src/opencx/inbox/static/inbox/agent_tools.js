// Agent tools in the inbox: canned replies in the reply box (picker and "/shortcut" + Tab),
// "select all" and per-action choices of the queue's bulk form, and confirmations.
// Event delegation on the document, set up once however often the script is included.
(function () {
  "use strict";
  if (window.opencxAgentTools) return;
  window.opencxAgentTools = true;

  function insertAtCursor(area, text, start, end) {
    var from = start === undefined ? area.selectionStart : start;
    var to = end === undefined ? area.selectionEnd : end;
    area.value = area.value.slice(0, from) + text + area.value.slice(to);
    var caret = from + text.length;
    area.focus();
    area.setSelectionRange(caret, caret);
  }

  function fetchCanned(picker, query) {
    return fetch(picker.dataset.cannedUrl + "?" + query, {
      credentials: "same-origin",
      headers: { Accept: "text/plain" },
    }).then(function (response) {
      if (!response.ok) throw new Error("canned reply " + response.status);
      return response.text();
    });
  }

  function pickerFor(area) {
    var pickers = document.querySelectorAll(".canned-picker[data-canned-url]");
    for (var i = 0; i < pickers.length; i++) {
      if (pickers[i].dataset.cannedTarget === area.id) return pickers[i];
    }
    return null;
  }

  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select.id === "canned-choice" && select.value) {
      var picker = select.closest(".canned-picker");
      var area = document.getElementById(picker.dataset.cannedTarget);
      fetchCanned(picker, "reply=" + encodeURIComponent(select.value)).then(function (text) {
        insertAtCursor(area, text);
        select.value = "";
      });
    }
    if (select.matches && select.matches("[data-bulk-action]")) showBulkChoice(select.form);
    if (select.matches && select.matches("input[data-select-all]")) {
      var boxes = document.querySelectorAll('input[type=checkbox][name="' + select.dataset.selectAll + '"]');
      for (var i = 0; i < boxes.length; i++) boxes[i].checked = select.checked;
    }
  });

  // "/thanks" then Tab: the word before the cursor becomes the canned reply's text.
  document.addEventListener("keydown", function (event) {
    var area = event.target;
    if (event.key !== "Tab" || event.shiftKey || area.tagName !== "TEXTAREA") return;
    var picker = pickerFor(area);
    if (!picker) return;
    var before = area.value.slice(0, area.selectionStart);
    var match = /(^|\s)\/([A-Za-z0-9_-]+)$/.exec(before);
    if (!match) return;
    var known = (picker.dataset.shortcuts || "").split(" ");
    if (known.indexOf(match[2].toLowerCase()) === -1) return;
    event.preventDefault();
    var start = area.selectionStart - match[2].length - 1;
    var end = area.selectionStart;
    fetchCanned(picker, "shortcut=" + encodeURIComponent(match[2])).then(function (text) {
      insertAtCursor(area, text, start, end);
    });
  });

  function showBulkChoice(form) {
    if (!form) return;
    var action = form.querySelector("[data-bulk-action]").value;
    var choices = form.querySelectorAll("[data-bulk-for]");
    for (var i = 0; i < choices.length; i++) {
      choices[i].hidden = choices[i].dataset.bulkFor !== action;
    }
  }

  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = button && button.dataset ? button.dataset.confirm : "";
    if (message && !window.confirm(message)) event.preventDefault();
  });

  function ready() {
    var forms = document.querySelectorAll("form.bulk");
    for (var i = 0; i < forms.length; i++) showBulkChoice(forms[i]);
  }
  document.addEventListener("DOMContentLoaded", ready);
  document.addEventListener("htmx:afterSettle", ready);
  if (document.readyState !== "loading") ready();
})();
