"""Column-mapping profiles (YAML): turn an export's headers into contract columns, and pick the
profile that fits a file.

A profile file holds `name`, `description` and either `canonical: true` (headers are the contract
column names) or `entities:` with, per entity, `columns` (source header -> contract column, `~` for
a known column that is not loaded), optional `values` (per contract column: source value -> contract
value), `signs` (negate amounts when an indicator column holds given values), `scale` (multiply a
decimal, e.g. percent -> fraction) and `defaults` (constant contract values). Profiles ship in
`huikuan/ingest/profiles/`; a user adds one by dropping a YAML file into `$HUIKUAN_HOME/profiles/`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from huikuan.contracts import CONTRACTS
from huikuan.ingest.sniff import IngestError

BUILTIN_DIR = Path(__file__).resolve().parent / "profiles"
# Bank contracts are filled by the bank parsers, not by header mapping.
TABULAR_ENTITIES = tuple(e for e in CONTRACTS if e not in ("bank_transactions", "bank_statements"))


@dataclass(frozen=True)
class SignRule:
    columns: tuple[str, ...]  # source headers; the first present is used
    negative_values: tuple[str, ...]
    apply_to: tuple[str, ...]


@dataclass(frozen=True)
class EntityMapping:
    profile: str
    entity: str
    columns: dict[str, str | None]  # source header -> contract column (None: known, not loaded)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    signs: tuple[SignRule, ...] = ()
    scale: dict[str, float] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)

    def resolve(self, headers: list[str]) -> dict[str, str]:
        """contract column -> the file's header that feeds it (first match wins)."""
        out: dict[str, str] = {}
        norm = {_norm(h): h for h in headers}
        for src, dst in self.columns.items():
            h = norm.get(_norm(src))
            if dst and h is not None and dst not in out:
                out[dst] = h
        return out

    def known(self, header: str) -> bool:
        return _norm(header) in {_norm(s) for s in self.columns}


def _norm(header: str) -> str:
    return header.strip().strip("\ufeff").lower()


def profile_dirs() -> list[Path]:
    dirs = [BUILTIN_DIR]
    home = os.environ.get("HUIKUAN_HOME")
    if home:
        dirs.append(Path(home) / "profiles")
    return dirs


def load_profiles(dirs: list[Path] | None = None) -> list[EntityMapping]:
    """Every entity mapping from every profile file, in a stable order (file name, entity)."""
    mappings: list[EntityMapping] = []
    for d in dirs or profile_dirs():
        if not d.is_dir():
            continue
        for path in sorted(d.glob("*.y*ml")):
            mappings.extend(parse_profile(path))
    return mappings


def parse_profile(path: Path) -> list[EntityMapping]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise IngestError(f"profile {path}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict) or "name" not in doc:
        raise IngestError(f"profile {path}: expected a mapping with at least `name`")
    name = str(doc["name"])
    if doc.get("canonical"):
        return [
            EntityMapping(name, entity, {c: c for c in CONTRACTS[entity].column_names})
            for entity in TABULAR_ENTITIES
        ]
    out = []
    for entity, spec in (doc.get("entities") or {}).items():
        if entity not in TABULAR_ENTITIES:
            raise IngestError(f"profile {path}: unknown entity {entity!r}; known: {list(TABULAR_ENTITIES)}")
        contract = CONTRACTS[entity]
        columns = {
            str(k): (str(v) if v is not None else None) for k, v in (spec.get("columns") or {}).items()
        }
        for target in [v for v in columns.values() if v] + list(spec.get("defaults") or {}):
            if target not in contract.column_names:
                raise IngestError(f"profile {path}: {entity} has no column {target!r}")
        signs = tuple(
            SignRule(
                tuple([r["column"]] if isinstance(r["column"], str) else r["column"]),
                tuple(str(v) for v in r["negative_values"]),
                tuple(r["apply_to"]),
            )
            for r in spec.get("signs") or ()
        )
        out.append(
            EntityMapping(
                profile=name,
                entity=entity,
                columns=columns,
                values={
                    k: {str(a): str(b) for a, b in v.items()} for k, v in (spec.get("values") or {}).items()
                },
                signs=signs,
                scale={k: float(v) for k, v in (spec.get("scale") or {}).items()},
                defaults={k: str(v) for k, v in (spec.get("defaults") or {}).items()},
            )
        )
    return out


def choose_mapping(
    headers: list[str], file_name: str, mappings: list[EntityMapping] | None = None
) -> EntityMapping:
    """The mapping whose headers cover the entity's required columns and match most of the file's
    headers; the file name (e.g. `invoices.csv`) breaks ties. No fit, or a tie -> IngestError."""
    mappings = load_profiles() if mappings is None else mappings
    stem = Path(file_name).stem.lower()
    scored = []
    for m in mappings:
        resolved = m.resolve(headers)
        required = set(CONTRACTS[m.entity].required) - set(m.defaults)
        if not required <= set(resolved):
            continue
        matched = sum(1 for h in headers if m.known(h))
        name_hit = stem.startswith(m.entity) or m.entity in stem
        scored.append((matched, name_hit, m))
    if not scored:
        raise IngestError(
            f"{file_name}: no mapping profile fits the header ({', '.join(headers[:12])}"
            f"{', ...' if len(headers) > 12 else ''}): required columns are missing for every entity "
            f"({_missing_hint(headers, mappings)})"
        )
    scored.sort(key=lambda t: (t[0], t[1]), reverse=True)
    best = scored[0]
    ties = [s for s in scored[1:] if (s[0], s[1]) == (best[0], best[1])]
    if ties:
        names = ", ".join(f"{s[2].profile}/{s[2].entity}" for s in [best, *ties])
        raise IngestError(
            f"{file_name}: header matches several profiles equally well ({names}); "
            f"rename the file after its entity or remove one profile"
        )
    return best[2]


def _missing_hint(headers: list[str], mappings: list[EntityMapping]) -> str:
    """For the closest entity, which required columns are missing."""
    best = None
    for m in mappings:
        resolved = m.resolve(headers)
        required = [c for c in CONTRACTS[m.entity].required if c not in m.defaults]
        missing = [c for c in required if c not in resolved]
        score = (len(resolved), -len(missing))
        if best is None or score > best[0]:
            best = (score, m, missing)
    if best is None:
        return "no profiles"
    return f"closest: {best[1].profile}/{best[1].entity}, missing required column(s) {', '.join(best[2])}"
