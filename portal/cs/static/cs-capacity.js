// Capacity page: "select all" for the listed accounts and a live count on the reassign button.
// Without JavaScript the checkboxes and the form work the same (one by one).
(function () {
  function update(form) {
    var boxes = form.querySelectorAll("input[name=account_ids]");
    var checked = form.querySelectorAll("input[name=account_ids]:checked").length;
    var all = form.querySelector(".cap-all");
    if (all) {
      all.checked = boxes.length > 0 && checked === boxes.length;
      all.indeterminate = checked > 0 && checked < boxes.length;
    }
    var count = form.querySelector(".cap-count");
    if (count) count.textContent = checked ? "(" + checked + ")" : "";
  }
  document.addEventListener("change", function (e) {
    var form = e.target.closest && e.target.closest("#cap-reassign");
    if (!form) return;
    if (e.target.classList.contains("cap-all")) {
      form.querySelectorAll("input[name=account_ids]").forEach(function (box) { box.checked = e.target.checked; });
    }
    update(form);
  });
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("cap-reassign");
    if (form) update(form);
  });
})();
