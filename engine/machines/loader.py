"""Loading a machine file: YAML -> schema -> semantic checks -> static checks -> safety.

``load_machine_file`` returns a ``MachineSpec`` or raises ``SpecError`` listing every
problem of the file at once, each located at its file, line and column. Warnings (an
unused parameter, a shadowed transition) never stop a load: they travel on
``spec.warnings``.

A machine that ``requires`` others (``position`` reads ``state.breakers``) loads them from
the same folder: their states and tags for its vocabulary, and the whole machines for the
product-state safety properties. A required file with errors is reported once, at the
``requires`` entry, pointing to the file to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.diagnostics import Diagnostic
from engine.errors import SpecError
from engine.machines import checks, safety
from engine.machines._semantic import SemanticBuild
from engine.machines.spec import MachineSpec
from engine.machines.vocabulary import PeerInfo
from engine.spec._checked import checked_before, remember_checked
from engine.spec._schema import schema_diagnostics
from engine.spec._yaml import Path_, SourceMap, YamlDocument, load_yaml, load_yaml_file

__all__ = ["MACHINE_SCHEMA", "is_machine_document", "load_machine_file", "load_machine_text"]

MACHINE_SCHEMA = "machine.schema.json"
_SEXAGESIMAL = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?$")


def is_machine_document(data: Any) -> bool:
    """A machine file is a mapping with a top-level ``states`` key."""
    return isinstance(data, dict) and "states" in data


def load_machine_file(
    path: str | Path, display: str | None = None, *, document: YamlDocument | None = None
) -> MachineSpec:
    """Load and check one machine file; SpecError with every diagnostic when it is wrong.

    ``document`` is the file already read with ``load_yaml_file`` (not read again).
    """
    p = Path(path)
    doc = document if document is not None else load_yaml_file(p, display)
    shown = Path(display).parent if display else p.parent
    loader = _Loader(p.parent, system_checks=True, shown=shown)
    loader.cache_parts = _cache_parts(p, display)
    return loader.load(doc)


def _cache_parts(path: Path, display: str | None) -> list[bytes] | None:
    """The bytes that decide a machine file's checks: it and its folder's machine files."""
    try:
        parts = [path.read_bytes(), (display or str(path)).encode()]
        for other in sorted(path.parent.glob("*.yaml")):
            parts += [other.name.encode(), other.read_bytes()]
    except OSError:
        return None
    return parts


def load_machine_text(text: str, file: str = "<machine>", folder: str | Path = ".") -> MachineSpec:
    """Load a machine from text; ``requires`` are looked up in ``folder``."""
    return _Loader(Path(folder), system_checks=True, shown=Path(file).parent).load(
        load_yaml(text, file)
    )


def _where(data: Any) -> Any:
    def where(path: Path_) -> str:
        if len(path) >= 2 and path[0] == "transitions" and isinstance(path[1], int):
            items = data.get("transitions") if isinstance(data, dict) else None
            item = items[path[1]] if isinstance(items, list) and path[1] < len(items) else None
            name = item.get("name") if isinstance(item, dict) else None
            return f"transitions[{path[1]}]" + (f" '{name}'" if isinstance(name, str) else "")
        if len(path) >= 2 and path[0] in ("states", "triggers", "params"):
            return f"{path[0]}.{path[1]}"
        return ""

    return where


def _restore_clock_strings(data: Any, source: SourceMap) -> None:
    """YAML 1.1 reads an unquoted 15:20 as the number 920; give times their text back."""
    targets: list[Path_] = []
    if isinstance(data.get("params"), dict):
        targets += [("params", k) for k in data["params"]]
    if isinstance(data.get("transitions"), list):
        targets += [("transitions", i, "at") for i in range(len(data["transitions"]))]
    for path in targets:
        node = source.scalars.get(path)
        if node is None or not _SEXAGESIMAL.match(node.value) or node.style:
            continue
        parent: Any = data
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and isinstance(parent.get(path[-1]), int):
            parent[path[-1]] = node.value


@dataclass(frozen=True)
class _FileKey:
    path: str
    mtime_ns: int
    size: int

    @classmethod
    def of(cls, path: Path) -> _FileKey:
        st = path.stat()
        return cls(str(path.resolve()), st.st_mtime_ns, st.st_size)


_DOCS: dict[tuple[_FileKey, str], YamlDocument | SpecError] = {}
_PEERS: dict[tuple[_FileKey, str], PeerInfo | str] = {}
_FULL: dict[tuple[_FileKey, str], MachineSpec | str] = {}


def _document(path: Path, shown: str) -> YamlDocument:
    """A required file's YAML, parsed once per version of the file."""
    key = (_FileKey.of(path), shown)
    if key not in _DOCS:
        try:
            _DOCS[key] = load_yaml_file(path, shown)
        except SpecError as e:
            _DOCS[key] = e
    found = _DOCS[key]
    if isinstance(found, SpecError):
        raise found
    return found


class _Loader:
    def __init__(self, folder: Path, *, system_checks: bool, shown: Path) -> None:
        self.folder = folder
        self.system_checks = system_checks
        self.shown = shown  # the folder as messages show it
        self.cache_parts: list[bytes] | None = None  # set: skip checks passed before

    def load(self, doc: YamlDocument) -> MachineSpec:
        data, source = doc.data, doc.source
        diagnostics = list(doc.diagnostics)
        if not isinstance(data, dict):
            raise SpecError(
                [
                    *diagnostics,
                    source.diagnostic(
                        (),
                        "not-a-machine",
                        "a machine file is a mapping with machine:, initial:, "
                        "states: and transitions:",
                    ),
                ]
            )
        _restore_clock_strings(data, source)
        parts = self.cache_parts
        kind = "machine" if self.system_checks else "machine-alone"
        remembered = checked_before(kind, parts) if parts is not None else None
        if remembered is not None:
            return self._remembered(data, source, remembered)
        diagnostics += schema_diagnostics(data, MACHINE_SCHEMA, source, _where(data))
        if any(d.severity == "error" for d in diagnostics):
            raise SpecError(diagnostics)
        build = SemanticBuild(data, source, self._peer)
        build.run()
        diagnostics += build.diagnostics
        spec = self._spec(build, source)
        consistent = (
            len(build.transitions) == len(data.get("transitions") or ())
            and spec.initial in spec.states
            and not any(d.severity == "error" for d in diagnostics)
        )
        diagnostics += checks.static_checks(spec, complete=consistent)
        if consistent:
            diagnostics += safety.machine_properties(spec)
        if self.system_checks and not any(d.severity == "error" for d in diagnostics):
            diagnostics += self._system(spec)
        errors = [d for d in diagnostics if d.severity == "error"]
        spec.warnings = sorted(
            (d for d in diagnostics if d.severity != "error"), key=lambda d: d.sort_key
        )
        if errors:
            raise SpecError(diagnostics)
        if parts is not None:
            remember_checked(kind, parts, spec.warnings)
        return spec

    def _remembered(self, data: Any, source: SourceMap, warnings: list[Diagnostic]) -> MachineSpec:
        """A file that passed every check before: build it, skip the checks."""
        build = SemanticBuild(data, source, self._peer)
        build.run()
        if any(d.severity == "error" for d in build.diagnostics):  # cannot happen; be safe
            raise SpecError(build.diagnostics)
        spec = self._spec(build, source)
        spec.warnings = warnings
        if self.system_checks:
            self._required(spec)  # the machines it requires, as a full check would fill them
        return spec

    def _spec(self, build: SemanticBuild, source: SourceMap) -> MachineSpec:
        data = build.data
        return MachineSpec(
            name=build.name,
            file=source.file,
            initial=data["initial"],
            states=build.states,
            transitions=tuple(build.transitions),
            triggers=build.triggers,
            params=build.params,
            vocabulary=build.vocabulary,
            description=data.get("description", ""),
            requires=tuple(data.get("requires") or ()),
            ignore=frozenset(data.get("ignore") or ()),
            peers=build.peers,
            source=source,
        )

    # -- required machines ------------------------------------------------------------
    def _file_for(self, name: str) -> tuple[Path, str]:
        return self.folder / f"{name}.yaml", (self.shown / f"{name}.yaml").as_posix()

    def _peer(self, name: str) -> PeerInfo | str:
        path, shown = self._file_for(name)
        if not path.is_file():
            return f"required machine '{name}' was not found: there is no {shown}"
        key = (_FileKey.of(path), shown)
        if key not in _PEERS:
            _PEERS[key] = _peer_info(path, name, shown)
        return _PEERS[key]

    def _full(self, name: str) -> MachineSpec | str:
        path, shown = self._file_for(name)
        key = (_FileKey.of(path), shown)
        if key not in _FULL:
            try:
                loader = _Loader(self.folder, system_checks=False, shown=self.shown)
                loader.cache_parts = _cache_parts(path, shown)
                _FULL[key] = loader.load(_document(path, shown))
            except SpecError as e:
                first = e.diagnostics[0] if e.diagnostics else None
                at = f" (first: {first.headline()})" if first is not None else ""
                _FULL[key] = (
                    f"required machine '{name}' has {len(e.diagnostics)} problem(s); "
                    f"run engine validate {shown}{at}"
                )
        return _FULL[key]

    def _system(self, spec: MachineSpec) -> list[Diagnostic]:
        problems = self._required(spec)
        if problems:
            return problems
        return safety.system_properties(spec)

    def _required(self, spec: MachineSpec) -> list[Diagnostic]:
        """Load every machine ``spec`` requires into ``spec.required``; the problems."""
        assert spec.source is not None
        problems: list[Diagnostic] = []
        pending = list(spec.requires)
        while pending:
            name = pending.pop(0)
            if name in spec.required or name == spec.name:
                continue
            found = self._full(name)
            if isinstance(found, str):
                i = spec.requires.index(name) if name in spec.requires else 0
                problems.append(
                    spec.source.diagnostic(
                        ("requires", i), "required-machine-invalid", found, where="requires"
                    )
                )
                continue
            spec.required[name] = found
            pending += [r for r in found.requires if r not in spec.required]
        return problems


def _peer_info(path: Path, name: str, shown: str) -> PeerInfo | str:
    try:
        doc = _document(path, shown)
    except SpecError:
        return f"required machine '{name}' cannot be read; run engine validate {shown}"
    data = doc.data
    if not is_machine_document(data) or not isinstance(data["states"], dict):
        return f"{shown} is not a machine file (it has no states:)"
    if data.get("machine") != name:
        return f"{shown} declares machine: {data.get('machine')!r}, not '{name}'"
    tags: dict[str, set[str]] = {}
    for state, body in data["states"].items():
        raw = body.get("tags") if isinstance(body, dict) else None
        for tag in raw if isinstance(raw, list) else ():
            if isinstance(tag, str):
                tags.setdefault(tag, set()).add(str(state))
    return PeerInfo(
        name,
        tuple(str(s) for s in data["states"]),
        {k: frozenset(v) for k, v in sorted(tags.items())},
    )
