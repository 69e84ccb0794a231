"""Diagrams are data: refuse what a browser would run if it ever displayed the file (a raw XML download opened
in a tab, an SVG export, an HTML documentation block). BPMN's own `script` (Python run in the sandbox) and
Camunda's `script` are not browser script and stay allowed."""

from __future__ import annotations

import re

from lxml import etree

# Namespaces whose content a browser renders and runs.
BROWSER_NAMESPACES = {
    "http://www.w3.org/1999/xhtml": "HTML",
    "http://www.w3.org/2000/svg": "SVG",
    "http://www.w3.org/1998/Math/MathML": "MathML",
    "http://www.w3.org/1999/XSL/Transform": "XSLT",
}
# Where a `script` element is the engine's (Python, sandboxed), not a browser's.
SCRIPT_NAMESPACES = {
    "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "http://camunda.org/schema/1.0/bpmn",
    "http://camunda.org/schema/1.0/dmn",
}
ACTIVE_ELEMENTS = {"script", "iframe", "object", "embed", "frame", "frameset", "applet", "foreignobject", "handler"}
EVENT_ATTRIBUTE = re.compile(r"^on[a-z]+$", re.IGNORECASE)
# Control characters and spaces are ignored by browsers inside a URL scheme ("java\tscript:").
ACTIVE_URL = re.compile(r"^(javascript|vbscript|livescript|data\s*:\s*text/html)\s*:?", re.IGNORECASE)
_URL_NOISE = re.compile(r"[\x00-\x20]+")


def active_content(root: etree._Element) -> str | None:
    """What in the document a browser would run (the first found, named), or None."""
    for node in root.iter():
        if isinstance(node, etree._ProcessingInstruction):
            if node.target.lower() == "xml-stylesheet":
                return "an xml-stylesheet processing instruction"
            continue
        if not isinstance(node.tag, str):
            continue  # comments, entities
        qname = etree.QName(node)
        where = f"<{qname.localname}>" + (f" (id {node.get('id')!r})" if node.get("id") else "")
        if qname.namespace in BROWSER_NAMESPACES:
            return f"{BROWSER_NAMESPACES[qname.namespace]} element {where}"
        if qname.localname.lower() in ACTIVE_ELEMENTS and qname.namespace not in SCRIPT_NAMESPACES:
            return f"element {where} in namespace {qname.namespace or 'none'}"
        for name, value in node.attrib.items():
            local = etree.QName(name).localname
            if EVENT_ATTRIBUTE.match(local):
                return f"event handler attribute {local!r} on {where}"
            if ACTIVE_URL.match(_URL_NOISE.sub("", value)):
                return f"a script URL in attribute {local!r} on {where}"
    for node in root.itersiblings(preceding=True):
        if isinstance(node, etree._ProcessingInstruction) and node.target.lower() == "xml-stylesheet":
            return "an xml-stylesheet processing instruction"
    return None
