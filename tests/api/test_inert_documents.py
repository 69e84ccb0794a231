"""Raw diagrams are inert downloads, every response carries security headers, and uploads carrying browser
script are refused (issue 11, findings 3 and "no security headers")."""

from __future__ import annotations

import io

import pytest

from tests.api.conftest import Api
from tests.support import PROCESSES

SANDBOX = "default-src 'none'; frame-ancestors 'none'; sandbox"
BPMN = (PROCESSES / "response" / "response.bpmn").read_bytes()
DMN = (PROCESSES / "response" / "priority.dmn").read_bytes()


def _upload_bpmn(api: Api, xml: bytes):  # type: ignore[no-untyped-def]
    return api.post("/processes/response/versions", "grace", data={"bpmn": (io.BytesIO(xml), "response.bpmn")},
                    content_type="multipart/form-data")


def _upload_dmn(api: Api, xml: bytes):  # type: ignore[no-untyped-def]
    return api.post("/decisions/priority/versions", "grace", data={"dmn": (io.BytesIO(xml), "priority.dmn")},
                    content_type="multipart/form-data")


def test_raw_bpmn_and_dmn_are_attachments_that_cannot_run(api: Api) -> None:
    for path, name in (("/processes/response/versions/1/bpmn", "response-v1.bpmn"),
                       ("/decisions/priority/versions/1/dmn", "priority-v1.dmn")):
        resp = api.get(path, "ivan")
        assert resp.status_code == 200 and resp.data.startswith(b"<?xml")
        assert resp.headers["Content-Disposition"] == f'attachment; filename="{name}"'
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Content-Security-Policy"] == SANDBOX


def test_security_headers_on_api_static_and_error_responses(api: Api) -> None:
    responses = [api.get("/health"), api.get("/tasks", "alice"), api.get("/no-such-thing", "alice"),
                 api.client.get("/static/vendor/BUILD.json"), api.client.get("/login")]
    for resp in responses:
        assert resp.headers["X-Content-Type-Options"] == "nosniff", resp.request.path
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["Referrer-Policy"] == "same-origin"
        assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    assert responses[0].headers["Content-Security-Policy"] == SANDBOX  # JSON needs nothing active
    assert "script-src 'self'" in responses[-1].headers["Content-Security-Policy"]  # pages keep their own


HOSTILE_BPMN = {
    "html script": (b"<bpmn:process ", b'<html:script xmlns:html="http://www.w3.org/1999/xhtml">alert(1)'
                    b"</html:script><bpmn:process "),
    "svg": (b"<bpmn:process ", b'<svg xmlns="http://www.w3.org/2000/svg"><a/></svg><bpmn:process '),
    "foreign script": (b"<bpmn:process ", b'<x:script xmlns:x="urn:x">alert(1)</x:script><bpmn:process '),
    "event handler": (b"<bpmn:process ", b'<bpmn:process onload="alert(1)" '),
    "javascript url": (b"<bpmn:process ", b'<bpmn:process xmlns:xl="http://www.w3.org/1999/xlink" '
                       b'xl:href=" java&#9;script:alert(1)" '),
    "stylesheet": (b"<bpmn:definitions", b'<?xml-stylesheet type="text/xsl" href="data:x"?><bpmn:definitions'),
}


@pytest.mark.parametrize("name", list(HOSTILE_BPMN))
def test_upload_with_browser_script_is_refused(api: Api, name: str) -> None:
    old, new = HOSTILE_BPMN[name]
    assert old in BPMN
    resp = _upload_bpmn(api, BPMN.replace(old, new, 1))
    assert resp.status_code == 422, resp.json
    assert "a browser would run" in resp.json["error"]["message"]
    assert [v["version"] for v in api.get("/processes/response/versions", "ivan").json] == [1]


def test_python_script_tasks_stay_allowed_and_dmn_script_is_refused(api: Api) -> None:
    resp = _upload_bpmn(api, BPMN + b"<!-- unchanged content, a new version -->")
    assert resp.status_code == 201  # the bundled diagram has Python script tasks: they are not browser script
    hostile = DMN.replace(b"<decision ", b'<decision onclick="alert(1)" ', 1)
    assert hostile != DMN
    resp = _upload_dmn(api, hostile)
    assert resp.status_code == 422 and "event handler attribute 'onclick'" in str(resp.json)
    assert [v["version"] for v in api.get("/decisions/priority/versions", "ivan").json] == [1]
