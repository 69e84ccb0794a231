"""Hostile-free XML parsing for uploaded diagrams: no DTDs, no entities, no network, bounded size."""

from __future__ import annotations

import re

from lxml import etree

from engine.diagram.inert import active_content

MAX_XML_BYTES = 2 * 1024 * 1024
_DTD_MARKERS = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)


class UnsafeXml(ValueError):
    """The document is malformed, too large, uses XML features we refuse (DTDs, entities) or carries
    browser script."""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
    )


def parse_xml(data: bytes | str, what: str = "document") -> etree._Element:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_XML_BYTES:
        raise UnsafeXml(f"{what} is {len(raw)} bytes; the limit is {MAX_XML_BYTES}")
    # A DTD is how billion-laughs and external-entity attacks start; diagrams never need one.
    if _DTD_MARKERS.search(raw):
        raise UnsafeXml(f"{what} contains a DOCTYPE or ENTITY declaration, which is not allowed")
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as exc:
        raise UnsafeXml(f"{what} is not well-formed XML: {exc}") from exc
    if root is None:
        raise UnsafeXml(f"{what} is empty")
    active = active_content(root)
    if active is not None:
        raise UnsafeXml(f"{what} contains {active}, which a browser would run; diagrams may not carry script "
                        "for browsers (remove it and upload again)")
    return root
