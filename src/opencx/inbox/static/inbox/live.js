/* Live updates of the inbox pages, without reloading: plain JavaScript, short polls.
 *
 * The queue (script with data-live-queue) polls, for its own address (filters, tab, page), the
 * tab counts, which it writes into the tabs' badges, and a fingerprint of the rows it shows;
 * when that changed, it fetches the list fragment of the current address (as HTMX would) and
 * swaps #results. The conversation page (data-live-conversation) polls for messages after the last
 * one shown and appends them as the server drew them. Changes are announced to screen readers
 * through a polite status region. Polls slow down while the tab is hidden.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var HIDDEN_POLL_MS = 15000;
  var pollMs = 3000;
  var version = script.getAttribute("data-version") || "";
  var timer = null;

  var status = document.createElement("div");
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  status.className = "visually-hidden";
  status.id = "live-status";

  function announce(text) {
    status.textContent = "";
    setTimeout(function () { status.textContent = text; }, 50);
  }
  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok || response.redirected) throw new Error("HTTP " + response.status);
        return response.json();
      });
  }
  function schedule(run, ms) {
    clearTimeout(timer);
    timer = setTimeout(run, document.hidden ? Math.max(ms, HIDDEN_POLL_MS) : ms);
  }

  // --- the queue -----------------------------------------------------------------------
  function showCounts(counts) {
    document.querySelectorAll("[data-count]").forEach(function (badge) {
      var count = counts[badge.getAttribute("data-count")];
      if (count !== undefined) badge.textContent = count;
    });
  }
  function pollQueue() {
    var url = script.getAttribute("data-live-queue") + location.search;
    getJSON(url).then(function (data) {
      pollMs = data.poll_ms || pollMs;
      showCounts(data.counts);
      if (data.version === version) return;
      version = data.version;
      return refreshResults().then(function () {
        announce("The queue changed: " + data.counts.open + " open conversations.");
      });
    }).then(function () { schedule(pollQueue, pollMs); }, function () {
      schedule(pollQueue, pollMs * 3);
    });
  }
  function refreshResults() {
    var results = document.getElementById("results");
    if (!results) return Promise.resolve();
    var focused = document.activeElement;
    var focusedHref = focused && results.contains(focused) ? focused.getAttribute("href") : null;
    return fetch(location.href, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok || response.redirected) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("#results");
        if (!fresh) return;
        results.replaceWith(fresh);
        if (window.htmx) window.htmx.process(fresh);
        if (focusedHref) {
          var again = fresh.querySelector('[href="' + focusedHref.replace(/"/g, '\\"') + '"]');
          if (again) again.focus();
        }
      });
  }

  // --- one conversation ------------------------------------------------------------------
  function lastMessageId() {
    var last = 0;
    document.querySelectorAll("[data-message-id]").forEach(function (item) {
      last = Math.max(last, parseInt(item.getAttribute("data-message-id"), 10) || 0);
    });
    return last;
  }
  function thread() {
    var list = document.querySelector("ol.thread");
    if (list) return list;
    list = document.createElement("ol");
    list.className = "thread";
    var empty = document.querySelector("section[aria-labelledby='thread-heading'] .empty");
    if (empty) empty.replaceWith(list);
    else document.getElementById("thread-heading").after(list);
    return list;
  }
  function showChanged() {
    if (document.getElementById("live-changed")) return;
    var notice = document.createElement("p");
    notice.id = "live-changed";
    notice.className = "notice";
    notice.textContent = "This conversation changed (status, assignee or priority). ";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary small";
    button.textContent = "Show the changes";
    button.addEventListener("click", function () { location.reload(); });
    notice.appendChild(button);
    var heading = document.querySelector("h1");
    heading.after(notice);
    announce("This conversation changed.");
  }
  function pollConversation() {
    var url = script.getAttribute("data-live-conversation") + "?after=" + lastMessageId();
    getJSON(url).then(function (data) {
      pollMs = data.poll_ms || pollMs;
      var added = 0;
      data.messages.forEach(function (message) {
        if (document.querySelector('[data-message-id="' + message.id + '"]')) return;
        var holder = document.createElement("ol");
        holder.innerHTML = message.html.trim();
        var item = holder.firstElementChild;
        if (item) { thread().appendChild(item); added += 1; }
      });
      if (added) {
        var newest = thread().lastElementChild;
        var text = newest.querySelector("header") ? newest.querySelector("header").textContent : "";
        announce((added === 1 ? "New message: " : added + " new messages; the last: ") +
          text.replace(/\s+/g, " ").trim());
      }
      if (version && data.version !== version) showChanged();
    }).then(function () { schedule(pollConversation, pollMs); }, function () {
      schedule(pollConversation, pollMs * 3);
    });
  }

  function start() {
    document.body.appendChild(status);
    var run = script.hasAttribute("data-live-queue") ? pollQueue : pollConversation;
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) schedule(run, 0);
    });
    schedule(run, pollMs);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
