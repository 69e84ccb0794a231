// Read-only diagrams: the record page marks the path an instance took (from /api/v1/instances/<id>/path),
// the diff page marks added and changed elements. Selecting a timeline event shows its element.
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';

import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css';

import { el, getText } from './common.js';

const frame = document.getElementById('diagram');
const status = document.getElementById('diagram-status');

function say(text) {
  if (status) status.textContent = text;
}

async function markPath(viewer, url) {
  const canvas = viewer.get('canvas');
  const registry = viewer.get('elementRegistry');
  const overlays = viewer.get('overlays');
  const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(`the path answered ${response.status}`);
  const path = await response.json();
  const counts = {};
  path.completed.forEach((id) => { counts[id] = (counts[id] || 0) + 1; });
  Object.entries(counts).forEach(([id, n]) => {
    if (!registry.get(id)) return;
    canvas.addMarker(id, 'itsm-completed');
    if (n > 1) {
      overlays.add(id, 'itsm-count', {
        position: { top: -10, right: 10 },
        html: el('span', { className: 'itsm-count', title: `done ${n} times` }, `×${n}`),
      });
    }
  });
  new Set(path.flows).forEach((id) => registry.get(id) && canvas.addMarker(id, 'itsm-taken'));
  path.active.forEach((id) => {
    if (!registry.get(id)) return;
    canvas.removeMarker(id, 'itsm-completed');
    canvas.addMarker(id, 'itsm-active');
  });
  const waiting = path.active.map((id) => (registry.get(id) && registry.get(id).businessObject.name) || id);
  say(`${Object.keys(counts).length} elements completed, ${new Set(path.flows).size} flows taken`
    + (waiting.length ? `; waiting at ${waiting.join(', ')}.` : '.'));
  return path;
}

function linkTimeline(viewer) {
  const canvas = viewer.get('canvas');
  const registry = viewer.get('elementRegistry');
  let focused = null;
  document.querySelectorAll('.timeline .ev[data-element-id]').forEach((item) => {
    const element = registry.get(item.dataset.elementId);
    if (!element) return;
    item.tabIndex = 0;
    const focus = () => {
      if (focused) {
        canvas.removeMarker(focused.dataset.elementId, 'itsm-focus');
        focused.classList.remove('is-focused');
      }
      focused = item;
      item.classList.add('is-focused');
      canvas.addMarker(element.id, 'itsm-focus');
      canvas.scrollToElement(element, { top: 80, bottom: 80, left: 80, right: 80 });
    };
    item.addEventListener('click', (event) => {
      if (event.target.closest('a, summary')) return;
      focus();
    });
    item.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        focus();
      }
    });
  });
}

async function open() {
  const viewer = new NavigatedViewer({ container: frame });
  window.viewer = viewer; // for the browser tests
  try {
    await viewer.importXML(await getText(frame.dataset.bpmnUrl));
    viewer.get('canvas').zoom('fit-viewport', 'auto');
    const markers = JSON.parse(frame.dataset.markers || '{}');
    Object.entries(markers).forEach(([cls, ids]) => ids.forEach((id) => {
      if (viewer.get('elementRegistry').get(id)) viewer.get('canvas').addMarker(id, cls);
    }));
    if (frame.dataset.pathUrl) await markPath(viewer, frame.dataset.pathUrl);
    linkTimeline(viewer);
    frame.dataset.ready = 'true';
  } catch (err) {
    say(`Could not show the diagram: ${err.message}`);
    frame.dataset.ready = 'error';
  }
}

if (frame) open();
