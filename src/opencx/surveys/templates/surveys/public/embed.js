/* OpenCX survey intercept. Add to a page: <script src="…/embed.js" async data-delay="5"></script> */
(function () {
  var config = {{ config|safe }};
  var key = "opencx-survey-" + config.url;
  try { if (window.localStorage.getItem(key)) return; } catch (e) {}
  var script = document.currentScript;
  var delay = Math.max(0, parseInt((script && script.getAttribute("data-delay")) || "5", 10) || 0);
  var lang = (document.documentElement.lang || "").slice(0, 2).toLowerCase();
  if (!config.texts[lang]) lang = config.default;
  var text = config.texts[lang];
  function dismiss(box) {
    try { window.localStorage.setItem(key, "1"); } catch (e) {}
    box.parentNode && box.parentNode.removeChild(box);
  }
  function show() {
    var box = document.createElement("aside");
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-label", text.question);
    box.setAttribute("lang", lang);
    box.style.cssText = "position:fixed;right:1rem;bottom:1rem;max-width:22rem;z-index:2147483000;background:#fff;color:#1d2330;border-radius:.75rem;box-shadow:0 4px 16px rgba(0,0,0,.25);padding:1rem;font:15px/1.4 system-ui,sans-serif";
    var close = document.createElement("button");
    close.type = "button";
    close.textContent = "×";
    close.setAttribute("aria-label", text.close);
    close.style.cssText = "float:right;border:0;background:none;font-size:1.25rem;cursor:pointer";
    close.onclick = function () { dismiss(box); };
    var question = document.createElement("p");
    question.textContent = text.question;
    question.style.cssText = "margin:0 0 .5rem;font-weight:600";
    var scale = document.createElement("div");
    scale.style.cssText = "display:flex;flex-wrap:wrap;gap:4px";
    for (var point = config.low; point <= config.high; point++) {
      var link = document.createElement("a");
      link.href = config.url + "?score=" + point + "&lang=" + lang;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = String(point);
      link.style.cssText = "min-width:1.75rem;padding:.375rem;text-align:center;border:1px solid #8a93a6;border-radius:.375rem;color:#0b5cad;text-decoration:none";
      link.onclick = function () { dismiss(box); };
      scale.appendChild(link);
    }
    box.appendChild(close);
    box.appendChild(question);
    box.appendChild(scale);
    document.body.appendChild(box);
  }
  window.setTimeout(show, delay * 1000);
})();
