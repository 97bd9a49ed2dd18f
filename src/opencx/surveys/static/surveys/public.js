// Progressive enhancement only: the page works without it. On a page whose only question is a
// score, one tap on a score saves it and moves on.
(function () {
  var form = document.querySelector("form");
  if (!form) return;
  var problems = document.getElementById("problems");
  if (problems) problems.focus();
  var groups = form.querySelectorAll("[data-score]");
  var others = form.querySelectorAll("textarea, .options input, .consent input");
  if (groups.length !== 1 || others.length) return;
  groups[0].addEventListener("change", function (event) {
    if (event.target && event.target.type === "radio") {
      form.querySelector("button[type=submit]").disabled = true;
      form.submit();
    }
  });
})();
