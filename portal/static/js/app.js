// Small glue: CSRF header for htmx, the phone menu toggle, confirmations, the service worker.
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
  if ("serviceWorker" in navigator && location.protocol !== "file:") {
    window.addEventListener("load", function () { navigator.serviceWorker.register("/sw.js", {scope: "/"}); });
  }
})();
