"""Command line: generate interface crates into an overlay prefix.

    python -m rosidl_rs_gen --overlay DIR PACKAGE...

Packages are looked up in AMENT_PREFIX_PATH (and the overlay); their dependencies are
generated too. A package whose crate already exists in another prefix
(`share/<pkg>/rust/Cargo.toml`, e.g. from a ros2_rust workspace) is left to that crate.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from . import layout, rust
from .model import GenerationError, Package, resolve, split_prefixes

MARKER = '.rosidl_rs_gen'  # marks crates this tool wrote, so they may be rewritten
LAYOUT_SHARE = 'share/rosidl_rs_gen_layout'


def write_if_changed(path: Path, content: str) -> bool:
    if path.is_file() and path.read_text() == content:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    return True


def foreign_crate(name: str, prefixes: list[Path], overlay: Path) -> Path | None:
    """A crate for `name` that this tool did not write, if any prefix has one."""
    for prefix in prefixes:
        crate = prefix / 'share' / name / 'rust'
        if (crate / 'Cargo.toml').is_file() and not (
                prefix.resolve() == overlay.resolve() and (crate / MARKER).exists()):
            return crate
    return None


def generate(packages: dict[str, Package], prefixes: list[Path], overlay: Path,
             log=print) -> list[Package]:
    """Write the crates; returns the packages generated here (not left to a foreign crate)."""
    generated, changed = [], False
    for name in sorted(packages):
        existing = foreign_crate(name, prefixes, overlay)
        ours = overlay / 'share' / name / 'rust'
        if existing is not None:
            log(f'{name}: using the existing crate {existing}')
            if (ours / MARKER).exists():
                shutil.rmtree(ours)
                changed = True
            continue
        files = rust.crate_files(packages[name])
        files[MARKER] = 'crate written by rust_vision tools/rosidl_rs_gen\n'
        for rel, content in files.items():
            changed |= write_if_changed(ours / rel, content)
        generated.append(packages[name])
    if changed:
        # ros-env's build script reruns only when an included crate changes: touch them all
        # so that a package added to the overlay is picked up.
        for package in generated:
            os.utime(overlay / 'share' / package.name / 'rust' / 'Cargo.toml')
    return generated


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='rosidl_rs_gen', description=__doc__.splitlines()[0])
    parser.add_argument('--overlay', type=Path, required=True,
                        help='install prefix to write <overlay>/share/<pkg>/rust into')
    parser.add_argument('--layout-probe', action='store_true',
                        help=f'also write the C/Rust layout probe into <overlay>/{LAYOUT_SHARE}')
    parser.add_argument('packages', nargs='+', help='interface packages to generate')
    args = parser.parse_args(argv)

    overlay = args.overlay.resolve()
    prefixes = [overlay] + [p for p in split_prefixes(os.environ.get('AMENT_PREFIX_PATH'))
                            if p.resolve() != overlay]
    try:
        packages = resolve(args.packages, prefixes)
        generated = generate(packages, prefixes, overlay)
    except GenerationError as exc:
        print(f'rosidl_rs_gen: error: {exc}', file=sys.stderr)
        return 1
    print(f'rosidl_rs_gen: {len(generated)} crates in {overlay}/share/<pkg>/rust: '
          + ' '.join(p.name for p in generated))
    if args.layout_probe:
        out = overlay / LAYOUT_SHARE
        write_if_changed(out / 'probe.c', layout.probe_c(generated))
        write_if_changed(out / 'tests.rs', layout.tests_rs(generated))
    return 0


if __name__ == '__main__':
    sys.exit(main())
