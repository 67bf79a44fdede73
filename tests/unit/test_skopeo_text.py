"""skopeo's error text, reduced to its cause (pure)."""

from __future__ import annotations

from deepctl.artifacts.skopeo_text import skopeo_cause

UPLOAD = ('time="2026-12-07T10:00:00Z" level=fatal msg="copying system image from manifest '
          'list: trying to reuse blob sha256:abc at destination: pinging container registry '
          '127.0.0.1:5000: Patch \\"https://127.0.0.1:5000/v2/x/blobs/uploads/9f?_state=AAAA'
          'verylongtoken&digest=sha256:1\\": x509: certificate signed by unknown authority"')


def test_the_cause_and_the_request_without_tokens() -> None:
    assert skopeo_cause(UPLOAD) == ("x509: certificate signed by unknown authority "
                                    "(Patch https://127.0.0.1:5000/v2/x/blobs/uploads/9f)")


def test_a_url_in_the_message_loses_its_query() -> None:
    text = ('level=fatal msg="writing blob: uploading layer to '
            'https://r:5000/v2/x/blobs/uploads/u?_state=AAAA&digest=sha256:1: Digest did not match"')
    assert skopeo_cause(text) == ("writing blob: uploading layer to https://r:5000/v2/x/blobs/"
                                  "uploads/u: Digest did not match")


def test_plain_text_and_no_text() -> None:
    assert skopeo_cause("Error: something plain\n") == "Error: something plain"
    assert skopeo_cause("", 125) == "skopeo exited with 125"
