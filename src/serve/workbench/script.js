// Upstream's workbench, live: a design checked as it is typed, and a run's
// progress followed as it runs. Every page works without this script.
(function () {
  "use strict";

  // The design form: after a pause in typing, the server checks the design
  // (queueing nothing) and its words are shown beside the field at fault.
  var form = document.querySelector("form[data-check]");
  if (form) {
    var summary = document.getElementById("live-check");
    var timer = null;
    var asked = 0;

    var clear = function () {
      form.querySelectorAll(".said").forEach(function (e) { e.remove(); });
      form.querySelectorAll("[aria-invalid]").forEach(function (e) {
        e.removeAttribute("aria-invalid");
        e.removeAttribute("aria-describedby");
      });
    };

    // Shows `text` after the field named `name`; false when the form has
    // no such field.
    var beside = function (name, text, kind, n) {
      var field = null;
      if (name) {
        form.querySelectorAll("[name]").forEach(function (e) {
          if (e.getAttribute("name") === name) { field = field || e; }
        });
      }
      if (!field) { return false; }
      var said = document.createElement("p");
      said.className = "said " + kind;
      said.id = "said-" + n;
      said.textContent = text;
      var at = field.closest("label") || field;
      at.insertAdjacentElement("afterend", said);
      if (kind === "message") {
        field.setAttribute("aria-invalid", "true");
        field.setAttribute("aria-describedby", said.id);
      }
      return true;
    };

    var check = function () {
      var n = ++asked;
      var body = new URLSearchParams(new FormData(form));
      body.set("go", "check");
      fetch(form.getAttribute("data-check"), {
        method: "POST",
        body: body,
        credentials: "same-origin"
      }).then(function (r) {
        if (!r.ok) { throw new Error(String(r.status)); }
        return r.json();
      }).then(function (c) {
        if (n !== asked) { return; }
        clear();
        var elsewhere = [];
        var count = 0;
        var show = function (s, kind) {
          count += 1;
          if (!beside(s.field, s.text, kind, count)) { elsewhere.push(s.text); }
        };
        if (c.refused) { show(c.refused, "message"); }
        c.warnings.forEach(function (w) { show(w, "warning"); });
        var head = c.refused
          ? "Not yet: the design would be refused."
          : c.warnings.length
            ? "The design loads, with " + c.warnings.length +
              (c.warnings.length === 1 ? " warning" : " warnings") + " (the command line gives the same)."
            : "The design loads, with no warnings.";
        summary.replaceChildren();
        var p = document.createElement("p");
        p.textContent = head;
        summary.appendChild(p);
        var lines = elsewhere.concat(c.notes);
        if (lines.length) {
          var ul = document.createElement("ul");
          lines.forEach(function (t) {
            var li = document.createElement("li");
            li.textContent = t;
            ul.appendChild(li);
          });
          summary.appendChild(ul);
        }
        summary.className = c.refused ? "message" : c.warnings.length ? "warning" : "ok";
      }).catch(function () {
        // The server is away: the form's own Check still works.
      });
    };

    var later = function () {
      clearTimeout(timer);
      timer = setTimeout(check, 600);
    };
    form.addEventListener("input", later);
    form.addEventListener("change", later);
  }

  // A run's page while it waits or runs: its progress, streamed; the page
  // loads its results when the run is over.
  var follow = document.querySelector("[data-events]");
  if (follow && window.EventSource) {
    var words = follow.querySelector("[role=status]");
    var bar = follow.querySelector("progress");
    var events = new EventSource(follow.getAttribute("data-events"));
    events.addEventListener("progress", function (e) {
      var p = JSON.parse(e.data);
      if (words) { words.textContent = p.words.charAt(0).toUpperCase() + p.words.slice(1) + "."; }
      if (bar) {
        bar.max = Math.max(1, p.jobs);
        bar.value = p.done;
        bar.textContent = p.done + " of " + p.jobs;
      }
    });
    events.addEventListener("end", function () {
      events.close();
      window.location.reload();
    });
  }
}());
