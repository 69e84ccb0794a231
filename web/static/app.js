// itsmflow: small keyboard and form helpers for every page. The pages work without it.
(function () {
  'use strict';

  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  // "/" jumps to the record search; Ctrl+Enter (Cmd+Enter) submits the form being filled in.
  document.addEventListener('keydown', function (event) {
    if (event.key === '/' && !typing(document.activeElement) && !event.ctrlKey && !event.metaKey) {
      var search = document.getElementById('global-q');
      if (search) {
        event.preventDefault();
        search.focus();
      }
    }
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      var form = document.activeElement && document.activeElement.form;
      if (form && form.method === 'post') {
        event.preventDefault();
        form.requestSubmit();
      }
    }
  });

  // Task and start forms: say so before a page with unsent edits is left, and never send a form twice.
  document.querySelectorAll('form#task-form, form#start-form').forEach(function (form) {
    var dirty = false;
    var sending = false;
    form.addEventListener('input', function () { dirty = true; });
    form.addEventListener('change', function () { dirty = true; });
    form.addEventListener('submit', function (event) {
      if (sending) {
        event.preventDefault();
        return;
      }
      sending = true;
      form.querySelectorAll('button[type="submit"]').forEach(function (b) { b.setAttribute('aria-busy', 'true'); });
    });
    window.addEventListener('beforeunload', function (event) {
      if (dirty && !sending) {
        event.preventDefault();
        event.returnValue = '';
      }
    });
  });

  // Editors that need room (the modeller) are loaded only on a wide enough screen: on a phone the page says
  // so instead of starting a canvas that cannot work there; widening the window starts it.
  var wide = document.getElementById('wide-script');
  if (wide) {
    var min = Number(wide.dataset.minWidth || 720);
    var notice = document.getElementById('needs-wider');
    var editor = document.querySelector('.editor');
    var load = function () {
      if (window.innerWidth < min) {
        if (notice) { notice.hidden = false; }
        if (editor) { editor.hidden = true; }
        return false;
      }
      if (notice) { notice.hidden = true; }
      if (editor) { editor.hidden = false; }
      var script = document.createElement('script');
      script.src = wide.dataset.src;
      document.body.appendChild(script);
      window.removeEventListener('resize', onResize);
      return true;
    };
    var onResize = function () { load(); };
    if (!load()) { window.addEventListener('resize', onResize); }
  }

  // Date ranges: a pair of date inputs named x_start / x_end (or x_from / x_to, due_from / due_to) keep the end
  // from being picked before the start. The server checks the range too; this only helps while picking.
  document.querySelectorAll('input[type="date"]').forEach(function (start) {
    var match = /^(.*?)(_start|_from|-from)$/.exec(start.name || start.id);
    if (!match || !start.form) { return; }
    var endNames = [match[1] + '_end', match[1] + '_to', match[1] + '-to'];
    var end = null;
    endNames.forEach(function (n) { end = end || start.form.querySelector('input[type="date"][name="' + n + '"]'); });
    if (!end) { return; }
    var link = function () {
      end.min = start.value || '';
      start.max = end.value || '';
    };
    start.addEventListener('change', link);
    end.addEventListener('change', link);
    link();
  });

  // On a phone the inbox's filters start folded unless some are in use: the tasks come first.
  var filters = document.getElementById('filters-panel');
  if (filters && window.innerWidth < 600 && filters.dataset.active === '0') {
    filters.open = false;
  }

  // After a validation error, the summary's links move focus to the field, not just scroll to it.
  document.querySelectorAll('.error-summary a[href^="#f-"]').forEach(function (link) {
    link.addEventListener('click', function (event) {
      var target = document.getElementById(link.getAttribute('href').slice(1));
      if (target) {
        event.preventDefault();
        var control = target.matches('fieldset') ? target.querySelector('input') : target;
        control.focus();
        control.scrollIntoView({ block: 'center' });
      }
    });
  });
})();
