// Enhancement only: warn before leaving with unsaved changes.
(function () {
  var form = document.getElementById('editor'), dirty = false;
  if (!form) return;
  form.addEventListener('input', function () { dirty = true; });
  form.addEventListener('submit', function () { dirty = false; });
  window.addEventListener('beforeunload', function (e) { if (dirty) { e.preventDefault(); e.returnValue = ''; } });
})();
