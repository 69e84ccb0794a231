// The examples panel of the table editor: the table's example cases (its .tests.json) as rows to add, change
// and remove; each is checked on the server against the table as edited, and failing ones say why. Below, a
// preview: type inputs, see the matched rule and the outputs, and keep the answer as a new example.
import { el, errorMessage, postJson } from './common.js';

const NUMERIC = new Set(['number', 'integer', 'long', 'double']);

// Text typed in a cell -> the JSON value an example holds, by the column's typeRef. Empty means "not given".
export function fromText(text, type) {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (type === 'boolean' && (trimmed === 'true' || trimmed === 'false')) return trimmed === 'true';
  if (NUMERIC.has(type) && trimmed !== '' && !Number.isNaN(Number(trimmed))) return Number(trimmed);
  if (trimmed === 'null') return null;
  return trimmed;
}

export function toText(value) {
  if (value === undefined) return '';
  if (value === null) return 'null';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function describe(values) {
  return Object.entries(values || {}).map(([k, v]) => `${k} = ${toText(v)}`).join(', ');
}

export function examplesPanel({ key, checkUrl, previewUrl, getXml, onEdit, onResults }) {
  const body = document.getElementById('examples-body');
  const head = document.getElementById('examples-head');
  const summary = document.getElementById('examples-summary');
  const previewFields = document.getElementById('preview-fields');
  const previewResult = document.getElementById('preview-result');
  const keepButton = document.getElementById('btn-preview-keep');
  let cases = [];
  let columns = null;
  let shape = '';
  let timer = null;
  let running = 0;
  let lastPreview = null;

  function datalist(id, values) {
    return el('datalist', { id }, ...(values || []).map((v) => el('option', { value: toText(v) })));
  }

  function cellInput(kind, column, number, value, onInput) {
    const listId = `values-${kind}-${column.key}`.replace(/[^A-Za-z0-9_-]/g, '_');
    const input = el('input', {
      type: 'text', value: toText(value), 'aria-label': `example ${number}: ${kind} ${column.label}`,
      'data-column': column.key, 'data-kind': kind, list: listId, className: 'example-cell',
    });
    input.addEventListener('input', () => onInput(fromText(input.value, column.type)));
    return input;
  }

  function setValue(target, name, value) {
    if (value === undefined) delete target[name];
    else target[name] = value;
  }

  function edited() {
    onEdit();
    schedule();
  }

  function row(c, index) {
    const number = index + 1;
    const own = c && typeof c === 'object' && (c.decision === key || c.decision === undefined);
    const tr = el('tr', { 'data-example': String(number) });
    tr.append(el('td', { className: 'num' }, String(number)));
    if (!own) {
      // An example of another decision in the same file: kept as it is, checked, not edited here.
      const span = columns.inputs.length + columns.outputs.length + 1;
      tr.append(el('td', { colspan: String(span), className: 'muted small' },
        `for decision ${c && c.decision}: ${describe(c && c.inputs)} → ${describe(c && c.expected)}`));
    } else {
      const name = el('input', { type: 'text', value: c.name || '', 'aria-label': `example ${number}: name`,
        className: 'example-name', placeholder: 'what it shows' });
      name.addEventListener('input', () => { setValue(c, 'name', name.value.trim() || undefined); edited(); });
      tr.append(el('td', {}, name));
      columns.inputs.forEach((column) => {
        c.inputs = c.inputs || {};
        tr.append(el('td', {}, cellInput('input', column, number, c.inputs[column.key], (v) => {
          setValue(c.inputs, column.key, v);
          edited();
        })));
      });
      columns.outputs.forEach((column) => {
        c.expected = c.expected || {};
        tr.append(el('td', { className: 'expected' }, cellInput('expected', column, number, c.expected[column.key], (v) => {
          setValue(c.expected, column.key, v);
          edited();
        })));
      });
    }
    tr.append(el('td', { className: 'example-status', 'data-status': '' }, '…'));
    tr.append(el('td', {}, el('button', {
      type: 'button', className: 'button small secondary', 'aria-label': `remove example ${number}`,
      onclick: () => { cases.splice(index, 1); render(); edited(); },
    }, 'Remove')));
    return tr;
  }

  function render() {
    if (!columns) return;
    head.replaceChildren(el('tr', {},
      el('th', {}, '#'), el('th', {}, 'Example'),
      ...columns.inputs.map((c) => el('th', { scope: 'col' }, c.label)),
      ...columns.outputs.map((c) => el('th', { scope: 'col', className: 'expected' }, `expect ${c.label}`)),
      el('th', {}, 'Result'), el('th', {}, '')));
    body.replaceChildren(...cases.map(row));
    const lists = document.getElementById('example-lists');
    lists.replaceChildren(
      ...columns.inputs.map((c) => datalist(`values-input-${c.key}`.replace(/[^A-Za-z0-9_-]/g, '_'), c.values)),
      ...columns.outputs.map((c) => datalist(`values-expected-${c.key}`.replace(/[^A-Za-z0-9_-]/g, '_'), c.values)),
    );
    renderPreviewFields();
  }

  function renderPreviewFields() {
    const kept = {};
    previewFields.querySelectorAll('input').forEach((i) => { kept[i.dataset.column] = i.value; });
    previewFields.replaceChildren(...columns.inputs.map((c) => el('label', {}, c.label, ' ',
      el('input', { type: 'text', 'data-column': c.key, value: kept[c.key] || '',
        list: `values-input-${c.key}`.replace(/[^A-Za-z0-9_-]/g, '_') }))));
  }

  function showResults(results) {
    results.examples.forEach((result) => {
      const cell = body.querySelector(`tr[data-example="${result.number}"] .example-status`);
      if (!cell) return;
      const rules = result.matched.length ? `rule ${result.matched.join(', ')}` : 'no rule';
      cell.dataset.status = result.passed ? 'passed' : 'failed';
      cell.closest('tr').classList.toggle('example-failed', !result.passed);
      cell.replaceChildren(result.passed
        ? el('span', { className: 'badge status-completed' }, `passes · ${rules}`)
        : el('span', { className: 'example-why' }, result.messages.join('; ')));
    });
    summary.textContent = results.examples.length === 0 ? 'No examples: the table is deployed without any.'
      : `${results.passed} of ${results.examples.length} pass${results.failed ? `, ${results.failed} fail` : ''}`;
    summary.className = results.failed ? 'is-error' : 'is-ok';
    onResults(results.examples.filter((r) => !r.passed));
  }

  async function check() {
    clearTimeout(timer);
    running += 1;
    const mine = running;
    const xml = await getXml();
    const result = await postJson(checkUrl, { dmn: xml, examples: cases });
    if (mine !== running) return; // a newer check is on its way
    if (result.status !== 200) {
      summary.textContent = `Examples not checked: ${errorMessage(result, 'the server refused')}`;
      summary.className = 'is-error';
      return;
    }
    const next = JSON.stringify(result.body.columns);
    if (next !== shape) {
      shape = next;
      columns = result.body.columns;
      render();
    }
    showResults(result.body);
    document.getElementById('examples').dataset.checked = String(mine);
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(check, 400);
  }

  async function preview(event) {
    event.preventDefault();
    const inputs = {};
    previewFields.querySelectorAll('input').forEach((input) => {
      const column = columns.inputs.find((c) => c.key === input.dataset.column);
      const value = fromText(input.value, column && column.type);
      if (value !== undefined) inputs[input.dataset.column] = value;
    });
    const result = await postJson(previewUrl, { dmn: await getXml(), inputs });
    lastPreview = null;
    keepButton.disabled = true;
    if (result.status !== 200) {
      previewResult.replaceChildren(el('span', { className: 'example-why' },
        `Not evaluated: ${errorMessage(result, 'the server refused')}`));
      return;
    }
    const answer = result.body;
    if (answer.error) {
      previewResult.replaceChildren(el('span', { className: 'example-why' }, `No answer: ${answer.error.message}`));
      return;
    }
    const matched = answer.matched.length ? `rule ${answer.matched.join(', ')}` : 'no rule';
    previewResult.replaceChildren(
      el('strong', { id: 'preview-outputs' }, describe(answer.outputs) || 'no outputs'),
      ' · matched ', el('code', { id: 'preview-matched' }, matched),
      el('div', { className: 'muted small' }, answer.explanation),
    );
    lastPreview = answer;
    keepButton.disabled = false;
  }

  function keep() {
    if (!lastPreview) return;
    const expected = {};
    Object.entries(lastPreview.outputs).forEach(([k, v]) => { if (v !== null) expected[k] = v; });
    cases.push({ decision: key, inputs: { ...lastPreview.inputs }, expected });
    render();
    edited();
  }

  document.getElementById('btn-add-example').addEventListener('click', () => {
    cases.push({ decision: key, inputs: {}, expected: {} });
    render();
    edited();
    const inputs = body.querySelectorAll('tr:last-child input');
    if (inputs.length) inputs[0].focus();
  });
  document.getElementById('btn-check-examples').addEventListener('click', check);
  document.getElementById('preview-form').addEventListener('submit', preview);
  keepButton.addEventListener('click', keep);

  return {
    load(text) {
      const parsed = text.trim() ? JSON.parse(text) : [];
      cases = Array.isArray(parsed) ? parsed : (parsed.cases || []);
      return check();
    },
    json() {
      return JSON.stringify(cases, null, 1);
    },
    check,
    schedule,
  };
}
