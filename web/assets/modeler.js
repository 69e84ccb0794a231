// The process owners' modeller: bpmn-js with the Camunda Platform 7 moddle and properties panel, so forms,
// lanes and candidate groups are editable; Preview changes (diff against the latest deployed version), Save
// draft (kept on the server, not deployed) and Deploy (lint warnings first, a comment, then a new version
// through the JSON API) with refused problems and warnings shown on the diagram.
import BpmnModeler from 'bpmn-js/lib/Modeler';
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CamundaPlatformPropertiesProviderModule,
} from 'bpmn-js-properties-panel';
import CamundaBehaviorsModule from 'camunda-bpmn-js-behaviors/lib/camunda-platform';
import camundaModdle from 'camunda-bpmn-moddle/resources/camunda.json';

import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css';
import '@bpmn-io/properties-panel/dist/assets/properties-panel.css';

import {
  dirtyTracker, download, el, errorMessage, getText, hideProblems, post, setStatus, showProblems,
} from './common.js';

const root = document.getElementById('modeller-root');
const key = root.dataset.key;
let latest = Number(root.dataset.latest);
const lanes = JSON.parse(root.dataset.lanes || '{}');
const buttons = ['btn-preview', 'btn-deploy', 'btn-download', 'btn-save-draft']
  .map((id) => document.getElementById(id));
const [previewButton, deployButton, downloadButton, draftButton] = buttons;
const dialog = document.getElementById('deploy-dialog');
const confirmButton = document.getElementById('btn-deploy-confirm');
let fromDraft = root.dataset.fromDraft === 'true';
const dirty = dirtyTracker();

const modeler = new BpmnModeler({
  container: '#canvas',
  propertiesPanel: { parent: '#properties' },
  additionalModules: [
    BpmnPropertiesPanelModule,
    BpmnPropertiesProviderModule,
    CamundaPlatformPropertiesProviderModule,
    CamundaBehaviorsModule,
  ],
  moddleExtensions: { camunda: camundaModdle },
});
window.modeler = modeler; // for the browser tests and for people who script their modeller

const canvas = modeler.get('canvas');
const overlays = modeler.get('overlays');
const registry = modeler.get('elementRegistry');
const selection = modeler.get('selection');
let marked = [];

function clearMarks() {
  marked.forEach(([id, cls]) => registry.get(id) && canvas.removeMarker(id, cls));
  marked = [];
  overlays.remove({ type: 'itsm-problem' });
  overlays.remove({ type: 'itsm-warning' });
}

function mark(id, cls) {
  if (registry.get(id)) {
    canvas.addMarker(id, cls);
    marked.push([id, cls]);
    return true;
  }
  return false;
}

function show(id) {
  const element = registry.get(id);
  if (!element) return;
  selection.select(element);
  canvas.scrollToElement(element, { top: 120, bottom: 120, left: 120, right: 120 });
}

async function currentXml() {
  const { xml } = await modeler.saveXML({ format: true });
  return xml;
}

function bpmnForm(xml) {
  const form = new FormData();
  form.append('bpmn', new Blob([xml], { type: 'application/xml' }), `${key}.bpmn`);
  return form;
}

function refused(problems) {
  clearMarks();
  problems.forEach((problem) => {
    if (problem.element_id && mark(problem.element_id, 'itsm-problem')) {
      overlays.add(problem.element_id, 'itsm-problem', {
        position: { top: -30, left: 0 },
        html: el('div', { className: 'itsm-problem-badge', title: problem.message }, problem.message),
      });
    }
  });
  showProblems(problems, (problem) => (registry.get(problem.element_id) ? () => show(problem.element_id) : null));
}

function markWarnings(warnings) {
  clearMarks();
  warnings.forEach((warning) => {
    if (warning.element_id && mark(warning.element_id, 'itsm-warning')) {
      overlays.add(warning.element_id, 'itsm-warning', {
        position: { bottom: -8, left: 0 },
        html: el('div', { className: 'itsm-warning-badge', title: warning.message }, warning.kind.replace(/_/g, ' ')),
      });
    }
  });
}

function listWarnings(warnings) {
  const list = document.getElementById('warning-list');
  list.replaceChildren(...warnings.map((warning) => {
    const go = registry.get(warning.element_id) ? () => show(warning.element_id) : null;
    const label = go ? el('button', { type: 'button', onclick: go }, warning.element_id) : null;
    return el('li', { 'data-element-id': warning.element_id || '', 'data-kind': warning.kind },
      label, label ? ': ' : '', warning.message);
  }));
  document.getElementById('warning-count').textContent = `${warnings.length} warning${warnings.length === 1 ? '' : 's'}.`;
  document.getElementById('warnings').hidden = warnings.length === 0;
  document.getElementById('no-warnings').hidden = warnings.length !== 0;
}

function withLanes(form) {
  if (Object.keys(lanes).length) form.append('lanes', JSON.stringify(lanes));
  return form;
}

// Deploy, step one: the lint warnings of the diagram as it is now, and a comment.
async function openDeploy() {
  hideProblems();
  document.getElementById('preview').hidden = true;
  setStatus('Checking the diagram…');
  try {
    const result = await post(root.dataset.lintUrl, withLanes(bpmnForm(await currentXml())));
    if (result.status !== 200) {
      setStatus(errorMessage(result, 'could not check the diagram'), 'error');
      return;
    }
    markWarnings(result.body.warnings);
    listWarnings(result.body.warnings);
    setStatus('');
    dialog.hidden = false;
    document.getElementById('deploy-comment').focus();
  } catch (err) {
    setStatus(err.message, 'error');
  }
}

function setVersionLabel(version) {
  document.getElementById('version-label').textContent = `editing v${version}`;
  root.dataset.version = String(version);
  root.dataset.baseVersion = String(version);
}

async function deploy() {
  buttons.forEach((b) => { b.disabled = true; });
  confirmButton.disabled = true;
  hideProblems();
  setStatus('Validating and deploying…');
  try {
    const form = withLanes(bpmnForm(await currentXml()));
    form.append('comment', document.getElementById('deploy-comment').value);
    form.append('origin', 'modeller');
    if (fromDraft) form.append('from_draft', '1');
    const result = await post(root.dataset.deployUrl, form);
    dialog.hidden = true;
    if (result.status === 201) {
      hideProblems();
      document.getElementById('preview').hidden = true;
      dirty.set(false);
      const { version } = result.body;
      if (version === latest) {
        setStatus(`Nothing to deploy: the diagram is the same as version ${version}.`, 'ok');
      } else {
        latest = version;
        fromDraft = false;
        const notice = document.getElementById('draft-notice');
        if (notice) notice.remove();
        setStatus(`Deployed ${key} version ${version}. New records use it; running ones stay on theirs.`, 'ok');
      }
      setVersionLabel(latest);
      document.getElementById('deploy-comment').value = '';
      deployButton.textContent = `Deploy as v${latest + 1}…`;
      document.getElementById('deploy-title').textContent = `Deploy ${key} as v${latest + 1}`;
      document.getElementById('preview-title').textContent = `Changes against v${latest}`;
      root.dataset.latest = String(latest);
    } else if (result.status === 422 && result.body && result.body.error.details.problems) {
      refused(result.body.error.details.problems);
      setStatus(`Not deployed: ${result.body.error.message}.`, 'error');
    } else {
      setStatus(`Not deployed: ${errorMessage(result, 'the server refused')}`, 'error');
    }
  } catch (err) {
    setStatus(`Not deployed: ${err.message}`, 'error');
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
    confirmButton.disabled = false;
  }
}

async function saveDraft() {
  draftButton.disabled = true;
  setStatus('Saving the draft…');
  try {
    const form = withLanes(bpmnForm(await currentXml()));
    form.append('base_version', root.dataset.baseVersion);
    const result = await post(root.dataset.draftUrl, form);
    if (result.status !== 200) {
      setStatus(`Draft not saved: ${errorMessage(result, 'the server refused')}`, 'error');
      return;
    }
    fromDraft = true;
    dirty.set(false);
    markWarnings(result.body.warnings);
    const when = new Date(result.body.saved_at).toLocaleTimeString();
    const count = result.body.warnings.length;
    setStatus(`Draft saved at ${when}; not deployed.${count ? ` ${count} lint warning(s) marked on the diagram.` : ''}`,
      'ok');
    document.getElementById('version-label').textContent = `editing your draft (saved ${when})`;
  } catch (err) {
    setStatus(`Draft not saved: ${err.message}`, 'error');
  } finally {
    draftButton.disabled = false;
  }
}

async function preview() {
  setStatus('Comparing with the deployed version…');
  hideProblems(); // from an earlier attempt: the diagram has changed since
  try {
    const result = await post(root.dataset.previewUrl, bpmnForm(await currentXml()));
    if (result.status !== 200) {
      setStatus(errorMessage(result, 'could not compare'), 'error');
      return;
    }
    clearMarks();
    result.body.added.forEach((e) => mark(e.id, 'itsm-added'));
    result.body.changed.forEach((e) => mark(e.id, 'itsm-changed'));
    const body = document.getElementById('preview-body');
    body.innerHTML = result.body.html; // rendered and escaped by our own template
    body.querySelectorAll('[data-element-id]').forEach((item) => {
      if (registry.get(item.dataset.elementId)) {
        item.classList.add('locatable');
        item.addEventListener('click', () => show(item.dataset.elementId));
      }
    });
    document.getElementById('preview').hidden = false;
    setStatus(result.body.empty ? 'No change to deploy yet.' : 'Review the changes, then deploy.');
  } catch (err) {
    setStatus(err.message, 'error');
  }
}

async function load() {
  try {
    const xml = await getText(root.dataset.bpmnUrl);
    const { warnings } = await modeler.importXML(xml);
    canvas.zoom('fit-viewport', 'auto');
    buttons.forEach((b) => { b.disabled = false; });
    setStatus(warnings.length ? `Opened with ${warnings.length} warning(s): see the browser console.` : '');
    if (warnings.length) console.warn(warnings); // eslint-disable-line no-console
    root.dataset.ready = 'true';
  } catch (err) {
    setStatus(`Could not open the diagram: ${err.message}`, 'error');
  }
}

modeler.on('commandStack.changed', () => dirty.set(true));
deployButton.addEventListener('click', openDeploy);
confirmButton.addEventListener('click', deploy);
document.getElementById('btn-deploy-cancel').addEventListener('click', () => {
  dialog.hidden = true;
  clearMarks();
});
draftButton.addEventListener('click', saveDraft);
previewButton.addEventListener('click', preview);
document.getElementById('btn-preview-deploy').addEventListener('click', openDeploy);
document.getElementById('btn-preview-close').addEventListener('click', () => {
  document.getElementById('preview').hidden = true;
  clearMarks();
});
downloadButton.addEventListener('click', async () => download(await currentXml(), `${key}.bpmn`, 'application/xml'));
document.addEventListener('keydown', (event) => {
  if ((event.ctrlKey || event.metaKey) && event.key === 's') { // Ctrl+S saves a draft on the server
    event.preventDefault();
    if (!draftButton.disabled) draftButton.click();
  }
});
load();
