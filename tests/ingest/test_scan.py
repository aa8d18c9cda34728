"""sniff.scan: the content hash and the line-end counts, whatever the chunk boundaries."""

import hashlib
import re

import pytest

from huikuan.ingest import sniff


def _expected(data: bytes) -> tuple[int, int, int]:
    crlf = data.count(b"\r\n")
    lf = len(re.findall(rb"(?<!\r)\n", data))
    cr = len(re.findall(rb"\r(?!\n)", data))
    return crlf, lf, cr


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 64])
@pytest.mark.parametrize(
    "data",
    [
        b"a,b\r\n1,2\r\n3,4\r\n",
        b"a,b\n1,2\r\n3,4\r5,6\n\r\n",
        b"\r\n\r\n\r\r\n\n\r",
        "客户,金额\r\n甲,1\n乙,2".encode(),
        b"",
    ],
)
def test_hash_and_line_ends_do_not_depend_on_chunk_size(tmp_path, monkeypatch, data, chunk):
    monkeypatch.setattr(sniff, "CHUNK", chunk)
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    facts = sniff.scan(path)
    assert facts.sha256 == hashlib.sha256(data).hexdigest()
    assert facts.size == len(data)
    assert (facts.crlf, facts.lf, facts.cr) == _expected(data)
    assert facts.ends_with_newline == (data == b"" or data.endswith((b"\n", b"\r")))
    assert facts.head == data[: min(sniff.SAMPLE, chunk)]
