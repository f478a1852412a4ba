// Small glue: CSRF header for htmx, the phone menu toggle, confirmations, scrollable tables, the service worker.
(function () {
  var token = document.querySelector('meta[name="csrf-token"]');
  document.addEventListener("htmx:configRequest", function (e) {
    if (token) e.detail.headers["X-CSRFToken"] = token.content;
  });
  document.addEventListener("click", function (e) {
    var toggle = e.target.closest('[data-toggle="nav"]');
    if (toggle) {
      var nav = document.getElementById(toggle.getAttribute("aria-controls"));
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    }
    var confirmEl = e.target.closest("[data-confirm]");
    if (confirmEl && !window.confirm(confirmEl.getAttribute("data-confirm"))) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);
  // A table wider than its box scrolls inside .table-wrap: keyboard users must reach that scroll too
  // (WCAG 2.1.1), so the box becomes a focusable, named region only when it actually overflows.
  function scrollableTables(root) {
    root.querySelectorAll(".table-wrap").forEach(function (box) {
      if (box.scrollWidth <= box.clientWidth + 1 || box.hasAttribute("tabindex")) return;
      var table = box.querySelector("table");
      var caption = table && table.caption ? table.caption.textContent : "";
      var heading = box.previousElementSibling && /^H[1-6]$/.test(box.previousElementSibling.tagName)
        ? box.previousElementSibling.textContent : "";
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", (caption || heading || "Tabela").trim() + " (role para o lado)");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { scrollableTables(document); });
  document.addEventListener("htmx:afterSettle", function (e) { scrollableTables(e.target); });
  if ("serviceWorker" in navigator && location.protocol !== "file:") {
    window.addEventListener("load", function () { navigator.serviceWorker.register("/sw.js", {scope: "/"}); });
  }
})();
