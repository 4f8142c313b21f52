"""Where in the PyTorch model each ONNX node ran: its dotted module path (``layer1.0.conv1``).

Read, in this order, from:

1. the node's weight, where it has one named as a ``state_dict`` key (``layer1.0.conv1.weight``,
   ``…self_attention.in_proj_weight``): both exporters name weights so, and the dynamo
   exporter's conv with a batch norm folded into it carries the norm's scopes but the conv's
   weight;
2. the dynamo exporter's ``pkg.torch.onnx.name_scopes`` metadata, a list of the module paths
   the node ran in, outermost first, then the op (``['', 'layer1', 'layer1.0', 'layer1.0.conv1',
   'conv2d']``): the last module in it;
3. the TorchScript exporter's node name, a scope per module then the op
   (``/layer1/layer1.0/conv1/Conv``). Each scope is the module's name in its parent, together
   with the numeric parts just before it (``layer1.0``); the path is the last part of each scope,
   joined. A module called again gets its scope with ``_1``, ``_2`` added (``relu_1``): a scope
   ``x_N`` is read as ``x`` where ``x`` ran before in the same parent module.

Anything else (a node the model's own ``forward`` ran, or of another exporter) has the module
``""``, the model itself. A path found that a spec's ``module`` key cannot hold (a scope with a
space or a tab, an empty level, hundreds of levels: see
:func:`~convcost.model.spec_check.is_module_path`) keeps its leading levels that it can hold, as
many as fit its length: the row goes to the innermost module that can be named, never refused.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from ...model.spec_check import MAX_MODULE_CHARS, is_module_level

if TYPE_CHECKING:
    from onnx import NodeProto

NAME_SCOPES = "pkg.torch.onnx.name_scopes"
_WEIGHT = re.compile(r"([^:\s]+)\.[A-Za-z_]*weight")
_AGAIN = re.compile(r"(.+)_[0-9]+")


def module_paths(nodes: Iterable[NodeProto], initializers: Mapping[str, object]) -> dict[int, str]:
    """Each node's module path, by ``id(node)``; nodes are read in graph order (calls again come later)."""
    seen: set[str] = set()
    found: dict[int, str] = {}
    for node in nodes:
        path = _weight_module(node, initializers) or _scoped(node) or _torchscript(node.name, seen)
        found[id(node)] = _holdable(path)
    return found


def _holdable(path: str) -> str:
    """The leading levels of ``path`` that a spec's ``module`` can hold, within its length."""
    kept: list[str] = []
    length = -1
    for level in path.split("."):
        length += len(level) + 1
        if length > MAX_MODULE_CHARS or not is_module_level(level):
            break
        kept.append(level)
    return ".".join(kept)


def _weight_module(node: NodeProto, initializers: Mapping[str, object]) -> str:
    for name in node.input:
        if name in initializers:
            match = _WEIGHT.fullmatch(name)
            if match is not None:
                return match.group(1)
    return ""


def _scoped(node: NodeProto) -> str:
    for prop in node.metadata_props:
        if prop.key != NAME_SCOPES:
            continue
        try:
            scopes = ast.literal_eval(prop.value)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return ""  # not the exporter's list: the node's module stays unknown
        if isinstance(scopes, list) and len(scopes) >= 2 and isinstance(scopes[-2], str):
            return scopes[-2]
    return ""


def _torchscript(name: str, seen: set[str]) -> str:
    if not name.startswith("/"):
        return ""
    path = ""
    for scope in name.split("/")[1:-1]:
        part = scope.rsplit(".", 1)[-1]
        again = _AGAIN.fullmatch(part)
        if again is not None and _join(path, again.group(1)) in seen:
            part = again.group(1)
        if not part:
            return ""
        path = _join(path, part)
        seen.add(path)
    return path


def _join(parent: str, child: str) -> str:
    return f"{parent}.{child}" if parent else child
