// The decision-table editor: dmn-js opens the table of the page's key, the examples panel below it holds the
// table's example cases (its .tests.json), checked against the edited table as either changes. Deploy sends the
// table with its examples as one version; refused problems are listed and their rules highlighted.
import DmnModeler from 'dmn-js/lib/Modeler';

import 'dmn-js/dist/assets/diagram-js.css';
import 'dmn-js/dist/assets/dmn-js-shared.css';
import 'dmn-js/dist/assets/dmn-js-drd.css';
import 'dmn-js/dist/assets/dmn-js-decision-table.css';
import 'dmn-js/dist/assets/dmn-js-decision-table-controls.css';
import 'dmn-js/dist/assets/dmn-js-literal-expression.css';
import 'dmn-js/dist/assets/dmn-js-boxed-expression.css';
import 'dmn-js/dist/assets/dmn-js-boxed-expression-controls.css';
import 'dmn-js/dist/assets/dmn-font/css/dmn-embedded.css';

import {
  dirtyTracker, download, errorMessage, getText, hideProblems, post, setStatus, showProblems,
} from './common.js';
import { examplesPanel } from './examples.js';

const root = document.getElementById('dmn-root');
const key = root.dataset.key;
const deployButton = document.getElementById('btn-deploy');
const downloadButton = document.getElementById('btn-download');
const dirty = dirtyTracker();
const modeler = new DmnModeler({ container: '#canvas' });
window.dmnModeler = modeler; // for the browser tests
const examples = examplesPanel({
  key,
  checkUrl: root.dataset.checkUrl,
  previewUrl: root.dataset.previewUrl,
  getXml: async () => (await modeler.saveXML({ format: true })).xml,
  onEdit: () => dirty.set(true),
  onResults: (failing) => highlight(failing),
});

function watch(viewer) {
  if (viewer && !viewer.itsmWatched) {
    viewer.itsmWatched = true;
    viewer.get('eventBus').on('commandStack.changed', () => {
      dirty.set(true);
      examples.schedule();
    });
  }
}

function highlight(problems) {
  document.querySelectorAll('.dmn-problem-cell').forEach((cell) => cell.classList.remove('dmn-problem-cell'));
  problems.forEach((problem) => {
    if (!problem.rule_id) return;
    document.querySelectorAll(`[data-row-id="${CSS.escape(problem.rule_id)}"]`)
      .forEach((cell) => cell.classList.add('dmn-problem-cell'));
  });
}

async function deploy() {
  deployButton.disabled = true;
  setStatus('Checking the table against its examples and deploying…');
  try {
    const { xml } = await modeler.saveXML({ format: true });
    const form = new FormData();
    form.append('dmn', new Blob([xml], { type: 'application/xml' }), `${key}.dmn`);
    // Always sent, even when empty: removing every example is an edit too.
    form.append('tests', new Blob([examples.json()], { type: 'application/json' }), `${key}.tests.json`);
    form.append('comment', document.getElementById('deploy-comment').value);
    form.append('origin', 'modeller');
    const result = await post(root.dataset.deployUrl, form);
    if (result.status === 201) {
      hideProblems();
      highlight([]);
      dirty.set(false);
      const version = result.body.version;
      if (version === Number(root.dataset.latest)) {
        setStatus(`Nothing to deploy: the table is the same as version ${version}.`, 'ok');
      } else {
        root.dataset.latest = String(version);
        document.getElementById('deploy-comment').value = '';
        setStatus(`Deployed table ${key} version ${version}. It is used from the next evaluation on.`, 'ok');
      }
      document.getElementById('version-label').textContent = `editing v${version}`;
      deployButton.textContent = `Deploy as v${version + 1}`;
    } else if (result.status === 422 && result.body && result.body.error.details.problems) {
      const problems = result.body.error.details.problems;
      showProblems(problems, (problem) => (problem.rule_id ? () => {
        const cell = document.querySelector(`[data-row-id="${CSS.escape(problem.rule_id)}"]`);
        if (cell) cell.scrollIntoView({ block: 'center' });
      } : null));
      highlight(problems);
      setStatus(`Not deployed: ${result.body.error.message}.`, 'error');
    } else {
      setStatus(`Not deployed: ${errorMessage(result, 'the server refused')}`, 'error');
    }
  } catch (err) {
    setStatus(`Not deployed: ${err.message}`, 'error');
  } finally {
    deployButton.disabled = false;
  }
}

async function load() {
  try {
    await modeler.importXML(await getText(root.dataset.dmnUrl));
    const views = modeler.getViews();
    const view = views.find((v) => v.type === 'decisionTable' && v.element.id === key)
      || views.find((v) => v.type === 'decisionTable');
    if (view) await modeler.open(view);
    watch(modeler.getActiveViewer());
    modeler.on('views.changed', () => watch(modeler.getActiveViewer()));
    await examples.load(await getText(root.dataset.testsUrl));
    deployButton.disabled = false;
    downloadButton.disabled = false;
    root.dataset.ready = 'true';
  } catch (err) {
    setStatus(`Could not open the table: ${err.message}`, 'error');
  }
}

deployButton.addEventListener('click', deploy);
downloadButton.addEventListener('click', async () => {
  const { xml } = await modeler.saveXML({ format: true });
  download(xml, `${key}.dmn`, 'application/xml');
});
load();
