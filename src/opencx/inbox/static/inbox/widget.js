/* OpenCX web chat widget: plain JavaScript, no libraries, nothing loaded from elsewhere.
 *
 * Embed:  <script src="https://YOUR-OPENCX/static/inbox/widget.js" data-opencx-chat="KEY" async></script>
 * Optional data-opencx-url="https://YOUR-OPENCX" when the script is served from another host.
 *
 * The widget draws a launcher button and a chat panel inside a shadow root (the site's styles
 * cannot break it, nor it the site's). The visitor's session token is kept in localStorage;
 * new messages arrive by polling `messages/?since=<last id>` (every 2 s while the page is
 * visible, slower when hidden) and are announced to screen readers through an aria-live list.
 */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-opencx-chat]");
  if (!script || script.getAttribute("data-opencx-loaded")) return;
  script.setAttribute("data-opencx-loaded", "1");
  var key = script.getAttribute("data-opencx-chat");
  var origin = script.getAttribute("data-opencx-url") || new URL(script.src, location.href).origin;
  var base = origin.replace(/\/$/, "") + "/widget/" + encodeURIComponent(key) + "/";
  var storageKey = "opencx-chat:" + key;
  var HIDDEN_POLL_MS = 15000;
  var RETRIES = 3;

  var state = load();
  var config = { name: "Chat", greeting: "", colour: "#1d4ed8", ask_for_email: false, poll_ms: 2000 };
  var shown = {};  // message ids already drawn
  var unread = 0;
  var timer = null;
  var sending = false;

  function load() {
    try { return JSON.parse(localStorage.getItem(storageKey)) || {}; } catch (e) { return {}; }
  }
  function save() {
    try { localStorage.setItem(storageKey, JSON.stringify(state)); } catch (e) { /* private mode */ }
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function call(method, path, body) {
    var headers = { "Content-Type": "application/json" };
    if (state.token) headers.Authorization = "Bearer " + state.token;
    return fetch(base + path, {
      method: method, headers: headers, credentials: "omit", mode: "cors",
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error(data.message || "The chat is not available (" + response.status + ").");
          error.status = response.status; error.field = data.field;
          throw error;
        }
        return data;
      });
    });
  }

  // --- the interface ---------------------------------------------------------------------
  var host = document.createElement("div");
  host.setAttribute("data-opencx-chat-widget", "");
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  root.innerHTML =
    '<style>' +
    ':host{all:initial}' +
    '*{box-sizing:border-box;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}' +
    '.launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:999px;padding:.8rem 1.2rem;color:#fff;font-size:1rem;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}' +
    '.launcher:focus-visible,button:focus-visible,input:focus-visible,textarea:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}' +
    '.panel{position:fixed;right:20px;bottom:84px;z-index:2147483000;width:min(360px,calc(100vw - 40px));height:min(520px,calc(100vh - 120px));display:flex;flex-direction:column;background:#fff;color:#111827;border-radius:12px;box-shadow:0 10px 30px rgba(0,0,0,.3);overflow:hidden}' +
    '.panel[hidden]{display:none}' +
    '.head{display:flex;align-items:center;justify-content:space-between;padding:.7rem 1rem;color:#fff}' +
    '.head h2{font-size:1rem;margin:0}' +
    '.close{background:transparent;border:0;color:#fff;font-size:1.4rem;cursor:pointer;line-height:1}' +
    '.greeting{margin:.6rem 1rem 0;color:#374151;font-size:.9rem}' +
    '.log{list-style:none;margin:0;padding:.75rem 1rem;flex:1;overflow-y:auto;display:flex;flex-direction:column;gap:.5rem}' +
    '.msg{max-width:85%;padding:.5rem .75rem;border-radius:10px;white-space:pre-wrap;overflow-wrap:anywhere;font-size:.95rem}' +
    '.msg.visitor{align-self:flex-end;color:#fff}' +
    '.msg.agent,.msg.bot,.msg.system{align-self:flex-start;background:#f3f4f6}' +
    '.msg .who{display:block;font-size:.75rem;opacity:.8;margin-bottom:.15rem}' +
    '.msg.pending{opacity:.6}' +
    '.who-are-you{margin:.5rem 1rem 0;font-size:.85rem}' +
    '.who-are-you summary{cursor:pointer}' +
    'label{display:block;font-size:.85rem;margin:.35rem 0 .15rem}' +
    'input,textarea{width:100%;padding:.45rem .55rem;border:1px solid #9ca3af;border-radius:6px;font-size:.95rem}' +
    'form.send{border-top:1px solid #e5e7eb;padding:.6rem 1rem}' +
    '.row{display:flex;gap:.5rem;align-items:flex-end}' +
    '.row textarea{flex:1;resize:none}' +
    '.primary{border:0;border-radius:6px;padding:.55rem .9rem;color:#fff;cursor:pointer;font-size:.95rem}' +
    '.error{color:#b91c1c;font-size:.85rem;margin:.3rem 0 0}' +
    '.vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}' +
    '</style>' +
    '<button type="button" class="launcher" aria-expanded="false" aria-controls="ocx-panel">Chat with us</button>' +
    '<section class="panel" id="ocx-panel" role="dialog" aria-modal="false" aria-labelledby="ocx-title" hidden>' +
    '  <div class="head"><h2 id="ocx-title">Chat</h2><button type="button" class="close" aria-label="Close chat">×</button></div>' +
    '  <p class="greeting" hidden></p>' +
    '  <details class="who-are-you" hidden><summary>Tell us who you are (optional)</summary>' +
    '    <form class="identify"><label for="ocx-name">Your name</label><input id="ocx-name" name="name" autocomplete="name" maxlength="200">' +
    '    <label for="ocx-email">Your e-mail address, so we can answer if you leave</label><input id="ocx-email" name="email" type="email" autocomplete="email" maxlength="254">' +
    '    <p><button type="submit" class="primary">Save</button></p><p class="error identify-error" role="alert"></p></form></details>' +
    '  <ol class="log" aria-live="polite" aria-relevant="additions" aria-label="Messages"></ol>' +
    '  <form class="send"><label for="ocx-message">Message</label>' +
    '    <div class="row"><textarea id="ocx-message" name="body" rows="2" maxlength="4000" required></textarea>' +
    '    <button type="submit" class="primary">Send</button></div>' +
    '    <p class="error send-error" role="alert"></p></form>' +
    '</section>';
  (document.body || document.documentElement).appendChild(host);

  function $(selector) { return root.querySelector(selector); }
  var launcher = $(".launcher"), panel = $(".panel"), log = $(".log"), textarea = $("#ocx-message");
  var sendError = $(".send-error"), identifyError = $(".identify-error");

  function paint() {
    $("#ocx-title").textContent = config.name;
    [launcher, $(".head"), $(".send .primary"), $(".identify .primary")].forEach(function (el) {
      el.style.background = config.colour;
    });
    var greeting = $(".greeting");
    greeting.textContent = config.greeting;
    greeting.hidden = !config.greeting;
    $(".who-are-you").hidden = !config.ask_for_email || !!state.identified;
    launcherLabel();
  }
  function launcherLabel() {
    launcher.textContent = unread ? "Chat with us (" + unread + " new)" : "Chat with us";
  }
  function isOpen() { return !panel.hidden; }
  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    unread = 0; launcherLabel();
    textarea.focus();
    log.scrollTop = log.scrollHeight;
    schedule(0);
  }
  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }
  launcher.addEventListener("click", function () { isOpen() ? close() : open(); });
  $(".close").addEventListener("click", close);
  panel.addEventListener("keydown", function (event) { if (event.key === "Escape") close(); });

  function draw(message, pendingId) {
    if (message.id && shown[message.id]) return;
    var item = pendingId ? null : log.querySelector('[data-pending="' + message.client + '"]');
    if (!item) {
      item = document.createElement("li");
      log.appendChild(item);
    }
    item.className = "msg " + (message.from || "agent") + (pendingId ? " pending" : "");
    if (message.from === "visitor") item.style.background = config.colour;
    item.textContent = "";
    var who = document.createElement("span");
    who.className = message.from === "visitor" ? "who vh" : "who";
    who.textContent = message.from === "visitor" ? "You:" : (message.author || config.name) + ":";
    item.appendChild(who);
    item.appendChild(document.createTextNode(message.body));
    if (pendingId) item.setAttribute("data-pending", pendingId); else item.removeAttribute("data-pending");
    if (message.id) {
      shown[message.id] = true;
      item.setAttribute("data-id", message.id);
      if (message.id > (state.lastId || 0)) { state.lastId = message.id; save(); }
    }
    log.scrollTop = log.scrollHeight;
  }

  // --- sending, with retries under one id: the server stores a message once per id ----------
  function ensureSession() {
    if (state.token) return Promise.resolve();
    return call("POST", "session/", {}).then(function (data) {
      state = { token: data.token, lastId: 0 }; save();
    });
  }
  function send(body, clientId, attempt) {
    return ensureSession().then(function () {
      return call("POST", "messages/", { id: clientId, body: body });
    }).catch(function (error) {
      if (error.status === 401 && attempt === 0) {  // the session is gone: start a new one
        state = {}; save();
        return send(body, clientId, attempt + 1);
      }
      if (!error.status && attempt < RETRIES) {  // the network: try again, same id
        return new Promise(function (resolve) { setTimeout(resolve, 1000 * (attempt + 1)); })
          .then(function () { return send(body, clientId, attempt + 1); });
      }
      throw error;
    });
  }
  $(".send").addEventListener("submit", function (event) {
    event.preventDefault();
    var body = textarea.value.trim();
    if (!body || sending) return;
    sending = true;
    sendError.textContent = "";
    var clientId = uuid();
    draw({ from: "visitor", body: body, client: clientId }, clientId);
    textarea.value = "";
    send(body, clientId, 0).then(function (data) {
      var item = log.querySelector('[data-pending="' + clientId + '"]');
      if (item) item.removeAttribute("data-pending");
      if (data.message && !shown[data.message.id]) {
        if (item) item.remove();
        draw(data.message);
      } else if (item) {
        item.remove();
      }
      schedule(config.poll_ms);
    }).catch(function (error) {
      var item = log.querySelector('[data-pending="' + clientId + '"]');
      if (item) item.remove();
      textarea.value = body;
      sendError.textContent = error.message || "Not sent. Try again.";
    }).then(function () { sending = false; textarea.focus(); });
  });
  textarea.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $(".send").requestSubmit ? $(".send").requestSubmit() : $(".send .primary").click();
    }
  });

  $(".identify").addEventListener("submit", function (event) {
    event.preventDefault();
    identifyError.textContent = "";
    var who = { name: $("#ocx-name").value, email: $("#ocx-email").value };
    ensureSession().then(function () { return call("POST", "identify/", who); }).then(function () {
      state.identified = true; save();
      $(".who-are-you").hidden = true;
      textarea.focus();
    }).catch(function (error) { identifyError.textContent = error.message; });
  });

  // --- live updates: short polls --------------------------------------------------------
  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(poll, ms);
  }
  function poll() {
    var next = document.hidden ? HIDDEN_POLL_MS : config.poll_ms;
    if (!state.token) { schedule(next); return; }
    call("GET", "messages/?since=" + (state.lastId || 0)).then(function (data) {
      data.messages.forEach(function (message) {
        if (shown[message.id]) return;
        draw(message);
        if (message.from !== "visitor" && !isOpen()) { unread += 1; launcherLabel(); }
      });
      schedule(next);
    }).catch(function (error) {
      if (error.status === 401) { state = {}; save(); }
      schedule(Math.max(next, 5000));
    });
  }
  document.addEventListener("visibilitychange", function () { if (!document.hidden) schedule(0); });

  call("GET", "config/").then(function (data) { config = data; }).catch(function () {}).then(function () {
    paint();
    var lastSeen = state.lastId || 0;
    state.lastId = 0;  // draw the whole conversation again on a new page
    if (state.token) {
      call("GET", "messages/?since=0").then(function (data) {
        data.messages.forEach(function (m) { draw(m); });
        if (!data.messages.length) state.lastId = lastSeen;
      }).catch(function (error) { if (error.status === 401) { state = {}; save(); } })
        .then(function () { schedule(config.poll_ms); });
    } else {
      schedule(config.poll_ms);
    }
  });
})();
