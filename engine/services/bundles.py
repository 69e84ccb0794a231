"""Reading process bundles from disk: a folder holds one .bpmn, its .dmn tables, their .tests.json, lanes.json."""

from __future__ import annotations

import json
from pathlib import Path

from engine.services.decisions import DmnFile
from engine.services.deploy import Bundle


def dmn_file(path: Path) -> DmnFile:
    tests = path.with_name(path.stem + ".tests.json")
    return DmnFile(path.name, path.read_bytes(), tests.read_text() if tests.exists() else None)


def folder_bundle(folder: Path) -> Bundle | None:
    bpmns = sorted(folder.glob("*.bpmn"))
    if not bpmns:
        return None
    lanes_file = folder / "lanes.json"
    lanes = json.loads(lanes_file.read_text()) if lanes_file.exists() else {}
    return Bundle(bpmns[0].read_bytes(), bpmns[0].name, [dmn_file(p) for p in sorted(folder.glob("*.dmn"))], lanes)


def process_folders(root: Path) -> list[Path]:
    """Deploy order: folders whose diagrams are called by others first is not needed (calls resolve by key at
    run time), but tables shared by several processes must exist before; `shared/` goes first when present."""
    folders = sorted(p for p in root.iterdir() if p.is_dir() and any(p.glob("*.bpmn")))
    shared = [p for p in folders if p.name == "shared"]
    return shared + [p for p in folders if p.name != "shared"]
