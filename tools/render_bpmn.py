"""Renders a BPMN file to PNG with bpmn-js in headless Chromium, to look at a layout (throwaway helper).

    .venv/bin/python tools/render_bpmn.py processes/triage/triage.bpmn /tmp/triage.png [width height [x y]]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VIEWER = ROOT / "node_modules" / "bpmn-js" / "dist" / "bpmn-viewer.development.js"
PAGE = """<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="file://{assets}/diagram-js.css"><link rel="stylesheet" href="file://{assets}/bpmn-js.css">
<style>html,body,#c{{margin:0;width:100%;height:100%;background:#fff}}</style></head><body><div id="c"></div>
<script src="file://{viewer}"></script><script>
const viewer = new BpmnJS({{container: '#c'}});
viewer.importXML({xml}).then(r => {{ const c = viewer.get('canvas'); const box = {box};
  if (box) c.viewbox(box); else c.zoom('fit-viewport');
  if (r.warnings.length) document.title = 'WARN ' + r.warnings.map(w => w.message).join('; '); }})
  .catch(e => {{ document.body.innerText = 'ERROR ' + e.message; }});
</script></body></html>"""


def main(src: str, out: str, width: str = "2400", height: str = "1200", x: str = "", y: str = "") -> None:
    """With x and y, shows the diagram region at (x, y) of the window's size at 100 %."""
    xml = Path(src).read_text()
    box = json.dumps({"x": int(x), "y": int(y), "width": int(width), "height": int(height)}) if x else "null"
    html = PAGE.format(assets=VIEWER.parent / "assets", viewer=VIEWER, xml=json.dumps(xml), box=box)
    with tempfile.NamedTemporaryFile("w", suffix=".html", delete=False) as fh:
        fh.write(html)
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={out}",
                    f"--window-size={width},{height}", "--virtual-time-budget=4000",
                    "--allow-file-access-from-files", f"file://{fh.name}"], check=True, capture_output=True)
    print(out)


if __name__ == "__main__":
    main(*sys.argv[1:])
