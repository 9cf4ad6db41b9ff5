// Enhancement only: warn before leaving with unsaved changes.
(function () {
  var form = document.getElementById('editor'), dirty = false;
  if (!form) return;
  form.addEventListener('input', function () { dirty = true; });
  form.addEventListener('submit', function () { dirty = false; });
  // The block editor marks the form `data-autosaved="true"` when the server holds the work.
  window.addEventListener('beforeunload', function (e) { if (dirty && form.dataset.autosaved !== 'true') { e.preventDefault(); e.returnValue = ''; } });
})();
