# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fast feedback on module docs (sanity's validate-modules is the full check)."""

from __future__ import annotations

import ast
import pathlib

import pytest
import yaml

MODULES = sorted((pathlib.Path(__file__).resolve().parents[4] / "plugins" / "modules").glob("*.py"))


def _docs(path: pathlib.Path) -> dict:
    tree = ast.parse(path.read_text())
    return {node.targets[0].id: node.value.value for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id in ("DOCUMENTATION", "EXAMPLES", "RETURN")}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_docs_are_yaml(path):
    docs = _docs(path)
    assert set(docs) == {"DOCUMENTATION", "EXAMPLES", "RETURN"}
    documentation = yaml.safe_load(docs["DOCUMENTATION"])
    assert documentation["module"] == path.stem
    assert isinstance(yaml.safe_load(docs["EXAMPLES"]), list)
    assert isinstance(yaml.safe_load(docs["RETURN"]), dict)
