"""Look at a landed file's bytes: hash, encoding, line endings, delimiter, and what kind of file it is.

One streaming pass computes the content hash (the registry key) and the facts the loaders need, so a
multi-gigabyte CSV is read once here and once by DuckDB.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

CHUNK = 16 * 1024 * 1024
SAMPLE = 256 * 1024


class IngestError(Exception):
    """A file that cannot be loaded; the message names file, line and cause."""


@dataclass
class FileFacts:
    path: Path
    size: int
    sha256: str
    head: bytes  # first SAMPLE bytes
    encoding: str = "utf-8"  # utf-8, utf-8-sig or gb18030
    crlf: int = 0
    lf: int = 0  # bare LF (not part of CRLF)
    cr: int = 0  # bare CR
    ends_with_newline: bool = True  # an empty file counts as ending with one
    notes: list[str] = field(default_factory=list)

    @property
    def lines(self) -> int:
        """Physical lines of a text file (a last line without a line end counts)."""
        return self.crlf + self.lf + self.cr + (0 if self.ends_with_newline else 1)

    @property
    def mixed_newlines(self) -> bool:
        return sum(1 for n in (self.crlf, self.lf, self.cr) if n) > 1 or (self.cr > 0)

    def head_text(self) -> str:
        """The sample decoded with the detected encoding (a cut last character is dropped)."""
        data = self.head[3:] if self.encoding == "utf-8-sig" else self.head
        return codecs.getincrementaldecoder(_codec(self.encoding))(errors="replace").decode(data, final=False)


def _codec(encoding: str) -> str:
    return "utf-8" if encoding == "utf-8-sig" else encoding


def _endings(chunk: bytes) -> tuple[int, int, int]:
    """LF, CRLF and CR counts of a chunk (CRLF counted in both others)."""
    n_lf = chunk.count(b"\n")
    # Most files have no CR at all: one memchr instead of two more counts.
    if b"\r" not in chunk:
        return n_lf, 0, 0
    return n_lf, chunk.count(b"\r\n"), chunk.count(b"\r")


def scan(path: Path) -> FileFacts:
    """Hash the file and count its line endings in one pass; detect the text encoding. While this
    thread reads the next chunk, one worker hashes the last one (hashlib releases the GIL) and
    another counts its line ends."""
    h = hashlib.sha256()
    crlf = lf = cr = 0
    size = 0
    head = b""
    utf8 = codecs.getincrementaldecoder("utf-8")()
    utf8_ok = True
    prev_cr = False
    last = b""
    pending = None  # (hash future, endings future, chunk) of the chunk before
    with open(path, "rb") as f, ThreadPoolExecutor(max_workers=2) as pool:
        while True:
            chunk = f.read(CHUNK)
            if pending is not None:
                hashed, counted, before = pending
                hashed.result()
                n_lf, n_crlf, n_cr = counted.result()
                # A CRLF split across two chunks: the CR that ended the chunk before, counted as a
                # bare CR there, and this LF are one CRLF.
                split = 1 if prev_cr and before.startswith(b"\n") else 0
                crlf += n_crlf + split
                lf += n_lf - n_crlf - split
                cr += n_cr - n_crlf - split
                prev_cr = before.endswith(b"\r")
            if not chunk:
                break
            if not head:
                head = chunk[:SAMPLE]
            pending = (pool.submit(h.update, chunk), pool.submit(_endings, chunk), chunk)
            size += len(chunk)
            last = chunk[-1:]
            if utf8_ok and size <= 4 * CHUNK:  # the encoding is decided on the first 64 MB
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError:
                    utf8_ok = False
    facts = FileFacts(
        path=path,
        size=size,
        sha256=h.hexdigest(),
        head=head,
        crlf=crlf,
        lf=lf,
        cr=cr,
        ends_with_newline=last in (b"", b"\n", b"\r"),
    )
    facts.encoding = detect_encoding(head, utf8_ok)
    return facts


def detect_encoding(head: bytes, utf8_ok: bool = True) -> str:
    """utf-8-sig when a BOM is present; utf-8 when the bytes decode; else gb18030 (a superset of GBK)
    when the sample decodes as such and contains Chinese; utf-8 otherwise (bad bytes then quarantine
    their rows)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if utf8_ok:
        return "utf-8"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        sample_utf8 = True
    except UnicodeDecodeError:
        sample_utf8 = False
    try:
        text = codecs.getincrementaldecoder("gb18030")().decode(head, final=False)
        if re.search(r"[\u4e00-\u9fff]", text) and not sample_utf8:
            return "gb18030"
    except UnicodeDecodeError:
        pass
    return "utf-8"


def kind_of(facts: FileFacts) -> str:
    """Coarse kind from content first, then name: xlsx, parquet, xml, mt940, bai2, text (CSV-like),
    or empty."""
    head = facts.head
    name = facts.path.name.lower()
    if facts.size == 0:
        return "empty"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"PAR1"):
        return "parquet"
    text = facts.head_text().lstrip("\ufeff \t\r\n")
    if text.startswith("<") or name.endswith(".xml"):
        return "xml"
    if re.search(r"^:20:", text, re.MULTILINE) and re.search(r"^:(25|60F|60M):", text, re.MULTILINE):
        return "mt940"
    if name.endswith((".sta", ".mt940", ".940")):
        return "mt940"
    if re.match(r"01,[^,\n]*,[^,\n]*,\d{6},", text):
        return "bai2"
    if not text.strip():
        return "empty"
    return "text"


def text_lines(facts: FileFacts, limit: int = 60) -> list[str]:
    """The first lines of a text file, decoded."""
    return facts.head_text().replace("\r\n", "\n").replace("\r", "\n").split("\n")[:limit]


def detect_delimiter(header_line: str) -> str:
    """The delimiter among comma, semicolon, tab and pipe that splits the header line most often."""
    counts = {d: len(next(csv.reader([header_line], delimiter=d), [])) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] > 1 else ","


def decode_file(facts: FileFacts) -> str:
    """Whole file as text (small files); undecodable bytes are an error naming the line."""
    data = facts.path.read_bytes()
    if facts.encoding == "utf-8-sig":
        data = data[3:]
    try:
        return data.decode(_codec(facts.encoding))
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise IngestError(
            f"{facts.path.name}: line {line}: bytes {data[exc.start : exc.start + 4]!r} are not valid "
            f"{facts.encoding} text"
        ) from None


def transcode_to_utf8(facts: FileFacts, out: Path) -> None:
    """Stream the file into a UTF-8 copy with LF line ends (for DuckDB, which reads UTF-8 only).
    Invalid bytes in a GB18030 file reject the file with the line they are on."""
    codec = _codec(facts.encoding)
    if codec == "utf-8":
        _normalise_newlines(facts, out)
        return
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    line_base = 1
    pending_cr = False
    with open(facts.path, "rb") as src, open(out, "w", encoding="utf-8", newline="") as dst:
        first = True
        while chunk := src.read(CHUNK):
            if first and facts.encoding == "utf-8-sig" and chunk.startswith(codecs.BOM_UTF8):
                chunk = chunk[3:]
            first = False
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                line = line_base + chunk[: exc.start].count(b"\n")
                raise IngestError(
                    f"{facts.path.name}: line {line}: bytes {chunk[exc.start : exc.start + 4]!r} are not "
                    f"valid {facts.encoding} text"
                ) from None
            line_base += chunk.count(b"\n")
            if pending_cr:
                text = "\r" + text
            pending_cr = text.endswith("\r")
            if pending_cr:
                text = text[:-1]
            dst.write(text.replace("\r\n", "\n").replace("\r", "\n"))
        tail = decoder.decode(b"", final=True)
        dst.write(("\r" if pending_cr else "") + tail)


def _normalise_newlines(facts: FileFacts, out: Path) -> None:
    """UTF-8 input: rewrite CRLF and bare CR as LF byte by byte (no decoding), so bytes that are not
    UTF-8 reach DuckDB unchanged and quarantine their own rows instead of rejecting the file."""
    pending_cr = False
    with open(facts.path, "rb") as src, open(out, "wb") as dst:
        first = True
        while chunk := src.read(CHUNK):
            if first and chunk.startswith(codecs.BOM_UTF8):
                chunk = chunk[3:]
            first = False
            if pending_cr:
                chunk = b"\r" + chunk
            pending_cr = chunk.endswith(b"\r")
            if pending_cr:
                chunk = chunk[:-1]
            dst.write(chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n"))
        if pending_cr:
            dst.write(b"\n")


def read_text_rows(facts: FileFacts) -> list[list[str]]:
    """All rows of a small delimited text file (bank exports), decoded and split."""
    text = decode_file(facts)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    header_guess = next((ln for ln in lines if ln.count(",") + ln.count("\t") + ln.count(";") >= 2), "")
    delim = detect_delimiter(header_guess)
    return [row for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=delim)]
