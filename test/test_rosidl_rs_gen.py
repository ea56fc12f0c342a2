"""rosidl_rs_gen on bad input: every failure names package, file and field, and writes nothing."""

import os
import sys
import tomllib
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / 'tools'))

from rosidl_rs_gen import __main__ as cli  # noqa: E402
from rosidl_rs_gen.model import GenerationError, resolve  # noqa: E402

INSTALLED = [Path(p) for p in os.environ.get('AMENT_PREFIX_PATH', '').split(os.pathsep) if p]

IDL = '''module {pkg} {{
  module msg {{
    struct {name} {{
      {body}
    }};
  }};
}};
'''


def make_package(prefix, pkg, messages):
    share = prefix / 'share' / pkg
    (share / 'msg').mkdir(parents=True)
    (share / 'package.xml').write_text(
        f'<package format="3"><name>{pkg}</name><version>1.2.3</version></package>')
    for name, body in messages.items():
        (share / 'msg' / f'{name}.idl').write_text(IDL.format(pkg=pkg, name=name, body=body))
    return prefix


def generate_error(pkg, prefixes):
    with pytest.raises(GenerationError) as info:
        resolve([pkg], prefixes)
    return str(info.value)


def test_missing_package_is_named(tmp_path):
    message = generate_error('no_such_msgs', [tmp_path])
    assert message.startswith('no_such_msgs: interface package not found in ')
    assert str(tmp_path) in message


def test_unparseable_file_is_named(tmp_path):
    prefix = make_package(tmp_path, 'broken_msgs', {'Bad': 'int32 x;'})
    (prefix / 'share/broken_msgs/msg/Bad.idl').write_text('module broken_msgs { struct {')
    message = generate_error('broken_msgs', [prefix])
    assert message.startswith('broken_msgs: ')
    assert 'msg/Bad.idl: cannot be parsed' in message


def test_unknown_type_names_package_file_and_field(tmp_path):
    prefix = make_package(tmp_path, 'ref_msgs',
                          {'Holder': 'geometry_msgs::msg::NoSuchType thing;'})
    message = generate_error('ref_msgs', [prefix] + INSTALLED)
    assert 'ref_msgs: ' in message and 'msg/Holder.idl: Holder.thing' in message
    assert 'unknown type geometry_msgs/msg/NoSuchType' in message


def test_dependency_package_not_found_is_named(tmp_path):
    prefix = make_package(tmp_path, 'dep_msgs', {'Holder': 'nowhere_msgs::msg::Thing thing;'})
    message = generate_error('dep_msgs', [prefix])
    assert message.startswith('nowhere_msgs: interface package not found')


def test_long_double_is_refused_not_miscompiled(tmp_path):
    prefix = make_package(tmp_path, 'ld_msgs', {'Wide': 'long double value;'})
    message = generate_error('ld_msgs', [prefix])
    assert 'ld_msgs: ' in message and 'msg/Wide.idl: Wide.value' in message
    assert 'long double' in message


def test_msg_without_idl_is_refused(tmp_path):
    prefix = make_package(tmp_path, 'legacy_msgs', {'Ok': 'int32 x;'})
    (prefix / 'share/legacy_msgs/msg/Old.msg').write_text('int32 x\n')
    message = generate_error('legacy_msgs', [prefix])
    assert 'legacy_msgs: ' in message and 'Old.msg: no Old.idl beside it' in message


def test_cli_reports_error_and_writes_nothing(tmp_path, capsys, monkeypatch):
    prefix = make_package(tmp_path / 'in', 'ld_msgs', {'Wide': 'long double value;'})
    monkeypatch.setenv('AMENT_PREFIX_PATH', str(prefix))
    assert cli.main(['--overlay', str(tmp_path / 'out'), 'ld_msgs']) == 1
    assert 'rosidl_rs_gen: error: ld_msgs: ' in capsys.readouterr().err
    assert not (tmp_path / 'out/share').exists()


def test_keywords_and_constants(tmp_path, monkeypatch):
    prefix = make_package(tmp_path / 'in', 'kw_msgs', {
        'Kw': 'int32 type; boolean match;',
    })
    monkeypatch.setenv('AMENT_PREFIX_PATH', str(prefix))
    assert cli.main(['--overlay', str(tmp_path / 'out'), 'kw_msgs']) == 0
    crate = tmp_path / 'out/share/kw_msgs/rust'
    rmw = (crate / 'src/msg/rmw.rs').read_text()
    assert 'pub type_: i32,' in rmw and 'pub match_: bool,' in rmw
    toml = (crate / 'Cargo.toml').read_text()
    assert 'version = "1.2.3"' in toml and '[package.metadata.ros-env]\ninclude = true' in toml


def test_an_existing_crate_wins(tmp_path, monkeypatch):
    underlay = make_package(tmp_path / 'ws', 'own_msgs', {'A': 'int32 x;'})
    existing = underlay / 'share/own_msgs/rust'
    existing.mkdir()
    (existing / 'Cargo.toml').write_text('[package]\nname = "own_msgs"\n')
    monkeypatch.setenv('AMENT_PREFIX_PATH', str(underlay))
    overlay = tmp_path / 'out'
    assert cli.main(['--overlay', str(overlay), 'own_msgs']) == 0
    assert not (overlay / 'share/own_msgs/rust').exists()
    assert (existing / 'Cargo.toml').read_text() == '[package]\nname = "own_msgs"\n'


def test_serde_derives_sit_behind_a_feature_that_reaches_every_dependency(
        tmp_path, monkeypatch):
    prefix = make_package(tmp_path / 'in', 'a_msgs', {'A': 'int32 x;'})
    make_package(prefix, 'b_msgs', {'B': 'a_msgs::msg::A a; double covariance[36];'})
    idl = prefix / 'share/b_msgs/msg/B.idl'
    idl.write_text('#include "a_msgs/msg/A.idl"\n' + idl.read_text())
    monkeypatch.setenv('AMENT_PREFIX_PATH', str(prefix))
    assert cli.main(['--overlay', str(tmp_path / 'out'), 'b_msgs']) == 0
    crate = tmp_path / 'out/share/b_msgs/rust'
    toml = tomllib.loads((crate / 'Cargo.toml').read_text())
    assert toml['features']['serde'] == ['dep:serde', 'dep:serde-big-array',
                                         'rosidl_runtime_rs/serde', 'a_msgs/serde']
    assert toml['dependencies']['serde']['optional'] is True
    for module in ('msg.rs', 'msg/rmw.rs'):
        source = (crate / 'src' / module).read_text()
        assert source.count('derive(serde::Deserialize, serde::Serialize)') == 1, module
        # serde itself implements arrays up to 32 elements
        assert 'serde(with = "serde_big_array::BigArray")' in source, module
