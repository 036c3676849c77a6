# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
import yaml

from ansible_collections.freshdock.core.plugins.doc_fragments import engine as engine_doc
from ansible_collections.freshdock.core.plugins.doc_fragments import registry as registry_doc
from ansible_collections.freshdock.core.plugins.module_utils.options import (
    ENGINE_ARGS,
    REGISTRY_ARGS,
    OptionError,
    engine_options,
    registry_settings,
)


def _spec_of(doc: dict) -> dict:
    spec = {}
    for name, option in doc.items():
        entry = {"type": option.get("type", "str")}
        for key in ("default", "aliases", "elements", "required", "no_log"):
            if key in option and not (key == "required" and option[key] is False):
                entry[key] = option[key]
        if "suboptions" in option:
            entry["options"] = _spec_of(option["suboptions"])
        spec[name] = entry
    return spec


def _normalise(spec: dict) -> dict:
    return {name: {k: (_normalise(val) if k == "options" else val) for k, val in opt.items() if k != "no_log"}
            for name, opt in spec.items()}


@pytest.mark.parametrize(("fragment", "spec"), [(engine_doc, ENGINE_ARGS), (registry_doc, REGISTRY_ARGS)])
def test_doc_fragments_in_step_with_argument_specs(fragment, spec):
    documented = yaml.safe_load(fragment.ModuleDocFragment.DOCUMENTATION)["options"]
    assert _normalise(_spec_of(documented)) == _normalise(spec)


def test_registry_settings_normalise_hosts_and_keep_secrets_out_of_repr(tmp_path):
    (tmp_path / "ca.pem").write_text("x")
    params = {"concurrency": 8, "timeout": 15.0, "registries": [
        {"registry": "https://index.docker.io/v1/", "username": "u", "password": "p4ss", "insecure": None, "ca_path": None},
        {"registry": "127.0.0.1:5000", "username": None, "password": None, "insecure": False, "ca_path": str(tmp_path / "ca.pem")},
    ]}
    credentials, options = registry_settings(params)
    assert set(credentials) == {"docker.io"}
    assert "p4ss" not in repr(credentials)
    assert options["127.0.0.1:5000"].insecure is False and options["127.0.0.1:5000"].ca_path == str(tmp_path / "ca.pem")


@pytest.mark.parametrize(("params", "fragment"), [
    ({"concurrency": 0, "timeout": 1.0, "registries": []}, "concurrency must be between 1 and 64"),
    ({"concurrency": 8, "timeout": 0, "registries": []}, "timeout must be a positive"),
    ({"concurrency": 8, "timeout": 1.0, "registries": [{"registry": "a b"}]}, "registries[0].registry"),
    ({"concurrency": 8, "timeout": 1.0, "registries": [{"registry": "ghcr.io", "username": "u"}]}, "both username and password"),
    ({"concurrency": 8, "timeout": 1.0, "registries": [{"registry": "ghcr.io"}, {"registry": "GHCR.io"}]}, "listed twice"),
    ({"concurrency": 8, "timeout": 1.0, "registries": [{"registry": "ghcr.io", "ca_path": "/nonexistent.pem"}]}, "ca_path"),
])
def test_bad_options_name_the_option(params, fragment):
    with pytest.raises(OptionError) as excinfo:
        registry_settings(params)
    assert fragment in str(excinfo.value)


def test_engine_options():
    opts = engine_options({"docker_host": "unix:///x.sock", "api_version": None, "engine_timeout": 5.0})
    assert (opts.base_url, opts.api_version, opts.timeout) == ("unix:///x.sock", "auto", 5.0)
    with pytest.raises(OptionError, match="engine_timeout"):
        engine_options({"engine_timeout": -1})
