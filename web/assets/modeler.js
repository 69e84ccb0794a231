// The process owners' modeller: bpmn-js with the Camunda Platform 7 moddle and properties panel, so forms,
// lanes and candidate groups are editable; Preview changes (diff against the latest deployed version) and
// Deploy (a new version through the JSON API) with refused problems shown on the diagram.
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
const buttons = ['btn-preview', 'btn-deploy', 'btn-download'].map((id) => document.getElementById(id));
const [previewButton, deployButton, downloadButton] = buttons;
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

async function deploy() {
  buttons.forEach((b) => { b.disabled = true; });
  hideProblems();
  setStatus('Validating and deploying…');
  try {
    const form = bpmnForm(await currentXml());
    if (Object.keys(lanes).length) form.append('lanes', JSON.stringify(lanes));
    const result = await post(root.dataset.deployUrl, form);
    if (result.status === 201) {
      clearMarks();
      hideProblems();
      document.getElementById('preview').hidden = true;
      dirty.set(false);
      const { version } = result.body;
      if (version === latest) {
        setStatus(`Nothing to deploy: the diagram is the same as version ${version}.`, 'ok');
      } else {
        latest = version;
        setStatus(`Deployed ${key} version ${version}. New records use it; running ones stay on theirs.`, 'ok');
      }
      deployButton.textContent = `Deploy as v${latest + 1}`;
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
deployButton.addEventListener('click', deploy);
previewButton.addEventListener('click', preview);
document.getElementById('btn-preview-deploy').addEventListener('click', deploy);
document.getElementById('btn-preview-close').addEventListener('click', () => {
  document.getElementById('preview').hidden = true;
  clearMarks();
});
downloadButton.addEventListener('click', async () => download(await currentXml(), `${key}.bpmn`, 'application/xml'));
document.addEventListener('keydown', (event) => {
  if ((event.ctrlKey || event.metaKey) && event.key === 's') { // Ctrl+S: download, as desktop modellers save
    event.preventDefault();
    downloadButton.click();
  }
});
load();
