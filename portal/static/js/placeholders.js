// Rule editor: "Inserir" puts a {{ campo }} into the message field the admin was last typing in (or the first
// message). Without JS the list stays a visible reference; the buttons only appear when they work.
(function () {
  let target = null;
  const fields = 'textarea[name$="-body"], input[name$="-subject"]';
  const reveal = () => document.querySelectorAll('[data-placeholder][hidden]').forEach((b) => { b.hidden = false; });
  document.addEventListener('focusin', (e) => { if (e.target.matches && e.target.matches(fields)) target = e.target; });
  document.addEventListener('click', (e) => {
    const button = e.target.closest('[data-placeholder]');
    if (!button) return;
    const field = (target && document.contains(target)) ? target : document.querySelector('textarea[name$="-body"]');
    if (!field) return;
    const text = button.dataset.placeholder;
    const start = field.selectionStart ?? field.value.length;
    const end = field.selectionEnd ?? field.value.length;
    field.value = field.value.slice(0, start) + text + field.value.slice(end);
    field.focus();
    field.setSelectionRange(start + text.length, start + text.length);
    field.dispatchEvent(new Event('input', { bubbles: true }));
    const status = document.getElementById('placeholder-status');
    if (status) status.textContent = `${text} inserido em “${field.labels && field.labels[0] ? field.labels[0].textContent.trim() : 'mensagem'}”.`;
  });
  document.addEventListener('DOMContentLoaded', reveal);
  document.addEventListener('htmx:afterSwap', reveal);
})();
