"""Locate, parse and validate the interface packages to generate crates for."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from rosidl_parser import definition as d
from rosidl_parser.parser import parse_idl_file

KINDS = ('msg', 'srv', 'action')

# Packages every generated action refers to (goal ids, stamps, cancel service).
ACTION_DEPENDENCIES = ('action_msgs', 'builtin_interfaces', 'unique_identifier_msgs')


class GenerationError(Exception):
    """An interface cannot be turned into Rust; the message names package, file and field."""


@dataclass
class Interface:
    """One interface file: a message, a service or an action."""

    package: str
    kind: str
    name: str
    path: Path
    element: object  # rosidl_parser Message, Service or Action

    def messages(self) -> list:
        """Every message struct this interface defines, in declaration order."""
        e = self.element
        if self.kind == 'msg':
            return [e]
        if self.kind == 'srv':
            return [e.request_message, e.response_message]
        return [e.goal, e.result, e.feedback, e.feedback_message,
                e.send_goal_service.request_message, e.send_goal_service.response_message,
                e.get_result_service.request_message, e.get_result_service.response_message]

    def services(self) -> list:
        """Service definitions (an action contributes its send-goal and get-result services)."""
        if self.kind == 'srv':
            return [self.element]
        if self.kind == 'action':
            return [self.element.send_goal_service, self.element.get_result_service]
        return []


@dataclass
class Package:
    """An installed interface package and everything parsed from it."""

    name: str
    prefix: Path
    version: str
    interfaces: list[Interface] = field(default_factory=list)
    dependencies: set[str] = field(default_factory=set)

    @property
    def share(self) -> Path:
        return self.prefix / 'share' / self.name

    def kinds(self) -> list[str]:
        return [k for k in KINDS if any(i.kind == k for i in self.interfaces)]

    def struct_names(self) -> set[tuple[str, str]]:
        """(namespace, name) of every struct defined here, for reference checks."""
        return {(m.structure.namespaced_type.namespaces[1], m.structure.namespaced_type.name)
                for i in self.interfaces for m in i.messages()}


def split_prefixes(value: str | None) -> list[Path]:
    """AMENT_PREFIX_PATH entries in order, empty ones dropped."""
    return [Path(p) for p in (value or '').split(os.pathsep) if p]


def find_package(name: str, prefixes: list[Path]) -> Path:
    """The first prefix that installs interface package `name`."""
    for prefix in prefixes:
        share = prefix / 'share' / name
        if (share / 'package.xml').is_file() or any((share / k).is_dir() for k in KINDS):
            return prefix
    searched = ', '.join(str(p) for p in prefixes) or '(AMENT_PREFIX_PATH is empty)'
    raise GenerationError(f'{name}: interface package not found in {searched}')


def package_version(share: Path) -> str:
    xml = share / 'package.xml'
    try:
        version = ET.parse(xml).getroot().findtext('version')
    except (OSError, ET.ParseError) as exc:
        raise GenerationError(f'{share.name}: {xml}: cannot read the version: {exc}') from exc
    return (version or '0.0.0').strip()


def load_package(name: str, prefix: Path) -> Package:
    """Parse every .idl file of a package with rosidl_parser."""
    share = prefix / 'share' / name
    pkg = Package(name, prefix, package_version(share))
    for kind in KINDS:
        folder = share / kind
        if not folder.is_dir():
            continue
        idls = sorted(folder.glob('*.idl'))
        stems = {p.stem for p in idls}
        for legacy in sorted(folder.glob(f'*.{kind}')):
            if legacy.stem not in stems:
                raise GenerationError(
                    f'{name}: {legacy}: no {legacy.stem}.idl beside it; '
                    'installed interfaces must include the .idl that rosidl_adapter writes')
        for idl in idls:
            pkg.interfaces.append(parse_interface(pkg, kind, idl))
    if not pkg.interfaces:
        raise GenerationError(f'{name}: {share}: the package defines no msg, srv or action')
    for interface in pkg.interfaces:
        for message in interface.messages():
            pkg.dependencies |= referenced_packages(message) - {name}
        if interface.kind == 'action':
            pkg.dependencies |= set(ACTION_DEPENDENCIES) - {name}
    return pkg


def parse_interface(pkg: Package, kind: str, idl: Path) -> Interface:
    try:
        parsed = parse_idl_file(d.IdlLocator(pkg.share, Path(kind) / idl.name))
    except Exception as exc:  # the parser raises lark and assertion errors alike
        detail = str(exc).strip().splitlines()
        raise GenerationError(
            f'{pkg.name}: {idl}: cannot be parsed: {type(exc).__name__}: '
            f'{detail[0] if detail else ""}') from exc
    wanted = {'msg': d.Message, 'srv': d.Service, 'action': d.Action}[kind]
    elements = list(parsed.content.get_elements_of_type(wanted))
    if len(elements) != 1:
        raise GenerationError(
            f'{pkg.name}: {idl}: expected exactly one {kind} definition, found {len(elements)}')
    element = elements[0]
    ns_type = element.structure.namespaced_type if kind == 'msg' else element.namespaced_type
    if list(ns_type.namespaces) != [pkg.name, kind] or ns_type.name != idl.stem:
        raise GenerationError(
            f'{pkg.name}: {idl}: defines {"/".join(ns_type.namespaced_name())}, '
            f'expected {pkg.name}/{kind}/{idl.stem}')
    interface = Interface(pkg.name, kind, idl.stem, idl, element)
    for message in interface.messages():
        for member in message.structure.members:
            check_member_type(interface, message, member)
        for constant in message.constants:
            check_constant(interface, message, constant)
    return interface


def value_type(type_):
    """The element type of arrays and sequences, the type itself otherwise."""
    return type_.value_type if isinstance(type_, d.AbstractNestedType) else type_


def where(interface: Interface, message, name: str) -> str:
    return (f'{interface.package}: {interface.path}: '
            f'{message.structure.namespaced_type.name}.{name}')


def check_member_type(interface: Interface, message, member) -> None:
    inner = value_type(member.type)
    if isinstance(inner, d.AbstractNestedType):
        raise GenerationError(f'{where(interface, message, member.name)}: nested arrays and '
                              'sequences have no C layout in rosidl_generator_c')
    if isinstance(inner, d.BasicType) and inner.typename == 'long double':
        raise GenerationError(f'{where(interface, message, member.name)}: long double has no '
                              'Rust equivalent of the same layout')
    if isinstance(inner, d.NamedType):
        raise GenerationError(f'{where(interface, message, member.name)}: unresolved type '
                              f'name {inner.name!r}')
    if isinstance(inner, d.NamespacedType) and len(inner.namespaces) != 2:
        raise GenerationError(f'{where(interface, message, member.name)}: unsupported type '
                              f'{"::".join(inner.namespaced_name())}')


def check_constant(interface: Interface, message, constant) -> None:
    ok = isinstance(constant.type, d.AbstractGenericString) or (
        isinstance(constant.type, d.BasicType) and constant.type.typename != 'long double')
    if not ok:
        raise GenerationError(f'{where(interface, message, constant.name)}: constant of '
                              'unsupported type')


def referenced_packages(message) -> set[str]:
    return {value_type(m.type).namespaces[0] for m in message.structure.members
            if isinstance(value_type(m.type), d.NamespacedType)}


def resolve(names: list[str], prefixes: list[Path]) -> dict[str, Package]:
    """Load the named packages and everything they depend on, then check every reference."""
    packages: dict[str, Package] = {}
    pending = list(names)
    while pending:
        name = pending.pop(0)
        if name in packages:
            continue
        packages[name] = load_package(name, find_package(name, prefixes))
        pending.extend(sorted(packages[name].dependencies))
    structs = {name: pkg.struct_names() for name, pkg in packages.items()}
    for pkg in packages.values():
        for interface in pkg.interfaces:
            for message in interface.messages():
                for member in message.structure.members:
                    inner = value_type(member.type)
                    if not isinstance(inner, d.NamespacedType):
                        continue
                    target, namespace = inner.namespaces
                    if (namespace, inner.name) not in structs[target]:
                        raise GenerationError(
                            f'{where(interface, message, member.name)}: unknown type '
                            f'{target}/{namespace}/{inner.name}')
    return packages
