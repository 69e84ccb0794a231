// Helpers shared by the editor and viewer pages (bundled into each entry by esbuild).

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : '';
}

// POSTs with the session cookie and the CSRF header the API accepts; resolves to {status, body}.
export async function post(url, formData) {
  const response = await fetch(url, {
    method: 'POST',
    body: formData,
    credentials: 'same-origin',
    headers: { 'X-CSRF-Token': csrfToken(), Accept: 'application/json' },
  });
  let body = null;
  try {
    body = await response.json();
  } catch (err) {
    body = null;
  }
  return { status: response.status, body };
}

// POSTs a JSON body the same way; resolves to {status, body}.
export async function postJson(url, data) {
  const response = await fetch(url, {
    method: 'POST',
    body: JSON.stringify(data),
    credentials: 'same-origin',
    headers: { 'X-CSRF-Token': csrfToken(), Accept: 'application/json', 'Content-Type': 'application/json' },
  });
  let body = null;
  try {
    body = await response.json();
  } catch (err) {
    body = null;
  }
  return { status: response.status, body };
}

export async function getText(url) {
  const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/xml, */*' } });
  if (!response.ok) {
    throw new Error(`${url} answered ${response.status}`);
  }
  return response.text();
}

export function errorMessage(result, fallback) {
  const error = result.body && result.body.error;
  return error ? error.message : `${fallback} (HTTP ${result.status})`;
}

export function setStatus(text, kind) {
  const status = document.getElementById('editor-status');
  if (!status) return;
  status.textContent = text;
  status.className = `editor-status${kind ? ` is-${kind}` : ''}`;
}

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([key, value]) => {
    if (key === 'className') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  });
  children.flat().forEach((child) => {
    if (child !== null && child !== undefined) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  });
  return node;
}

// Lists refused-deployment problems; `locate(problem)` returns a handler that shows the element, or null.
export function showProblems(problems, locate) {
  const section = document.getElementById('problems');
  const list = document.getElementById('problem-list');
  list.replaceChildren(...problems.map((problem) => {
    const where = problem.element_id || problem.rule_id;
    const go = locate(problem);
    const label = go ? el('button', { type: 'button', onclick: go }, where) : where ? el('code', {}, where) : null;
    return el('li', { 'data-element-id': problem.element_id || '' }, label, label ? ': ' : '', problem.message);
  }));
  section.hidden = problems.length === 0;
}

export function hideProblems() {
  const section = document.getElementById('problems');
  if (section) section.hidden = true;
}

export function download(text, filename, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = el('a', { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// Marks the page as holding unsent edits: a flag in the toolbar and a warning before leaving.
export function dirtyTracker() {
  const flag = document.getElementById('dirty-flag');
  let dirty = false;
  window.addEventListener('beforeunload', (event) => {
    if (dirty) {
      event.preventDefault();
      event.returnValue = '';
    }
  });
  return {
    set(value) {
      dirty = value;
      if (flag) flag.hidden = !value;
    },
    get value() {
      return dirty;
    },
  };
}
