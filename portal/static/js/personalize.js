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

(function () {
  var box = document.getElementById("pz-lightbox");
  if (!box || typeof box.showModal !== "function") return;  // no viewer: the links open the photos
  var img = document.getElementById("pz-lightbox-img");
  var caption = document.getElementById("pz-lightbox-caption");
  var count = document.getElementById("pz-lightbox-count");
  var photos = [], index = 0, opener = null, startX = null, swiped = false;

  function show(i) {
    index = (i + photos.length) % photos.length;
    img.src = photos[index];
    img.alt = caption.textContent + (photos.length > 1 ? " — foto " + (index + 1) + " de " + photos.length : "");
    count.textContent = photos.length > 1 ? "· " + (index + 1) + " de " + photos.length : "";
    box.querySelectorAll("[data-lightbox-step]").forEach(function (b) { b.hidden = photos.length < 2; });
  }
  // htmx replaces the items after each choice: listen on the document, not on the links
  document.addEventListener("click", function (e) {
    var link = e.target.closest("a[data-lightbox]");
    if (!link || e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.preventDefault();
    opener = link;
    photos = link.getAttribute("data-lightbox").split(" ");
    caption.textContent = link.getAttribute("data-caption") || "";
    show(0);
    box.showModal();
    box.querySelector("[data-lightbox-close]").focus();
  });
  box.addEventListener("click", function (e) {
    if (swiped) { swiped = false; return; }  // the click that ends a swipe is not a tap on the backdrop
    var step = e.target.closest("[data-lightbox-step]");
    if (step) show(index + Number(step.getAttribute("data-lightbox-step")));
    else if (e.target.closest("[data-lightbox-close]") || e.target === box) box.close();  // the backdrop is the dialog
  });
  box.addEventListener("keydown", function (e) {
    if (e.key === "ArrowRight") show(index + 1);
    else if (e.key === "ArrowLeft") show(index - 1);
  });
  box.addEventListener("pointerdown", function (e) { startX = e.clientX; });
  box.addEventListener("pointerup", function (e) {
    if (startX === null || photos.length < 2) return;
    var dx = e.clientX - startX;
    startX = null;
    if (Math.abs(dx) > 40) { swiped = true; show(index + (dx < 0 ? 1 : -1)); }
  });
  box.addEventListener("close", function () {
    img.src = "data:,";
    if (opener && document.contains(opener)) opener.focus();
  });
})();
