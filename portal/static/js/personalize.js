// Personalization pages: the payment form offers only the chosen method's installments, and option photos open
// in a lightbox on the page. Without this script both still work: the server validates the pair and keeps
// the input, and a photo link opens the photo.
(function () {
  function syncInstallments(form) {
    var picked = form.querySelector('input[name="method"]:checked');
    var select = form.querySelector("[data-pay-installments]");
    var source = picked && form.querySelector('template[data-pay-method="' + picked.value + '"]');
    if (!select || !source) return;
    var keep = select.value;
    select.replaceChildren(source.content.cloneNode(true));
    select.value = keep;
    if (select.selectedIndex < 0) select.selectedIndex = 0;
  }
  document.addEventListener("change", function (e) {
    var form = e.target.closest("[data-pay-form]");
    if (form && e.target.name === "method") syncInstallments(form);
  });
  document.querySelectorAll("[data-pay-form]").forEach(syncInstallments);
})();
