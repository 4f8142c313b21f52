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
   (``/layer1/layer1.0/conv1/Conv``, ``/convs.0/convs.0.0/Conv``, ``/layers.0/conv1/Conv``). A
   scope is the end of the module's path that its parent's lacks, after as many of the parent's
   last levels as the exporter repeats (``layer1.0`` under ``layer1``, ``downsample.0`` under
   ``layer1.0.downsample``; ``layers.0`` under ``encoder``, which iterates a ModuleList). A
   module called again gets its scope with ``_1``, ``_2`` added (``relu_1``): a scope ``x_N`` is
   read as ``x`` where ``x`` ran before in the same parent module;

4. a parameter it reads that is named as a ``state_dict`` key, ``owner.name``
   (``…self_attention.in_proj_bias``, ``encoder.pos_embedding``): its owner, for a node that has no
   scopes of either exporter (a file whose metadata a tool dropped);
5. its neighbours, for a node that has none of the above (its metadata dropped, or an op a tool
   inserted). A node reading a constant tensor (a weight the exporter folded) whose output one
   node reads, where that reader holds a parameter of ``m`` (rule 1 or 4: a linear split into
   MatMul and an Add of ``m.bias``), ran in ``m``. Then each run
   of such nodes, connected by the values they pass one another, takes the deepest module that
   holds every module on its edge: the nodes that feed it and the nodes it feeds, where the
   model's inputs and an output no node reads count as the model itself. An op run after an op
   in ``m.a`` and before one in ``m.b`` ran while ``m`` was running, so in ``m`` or deeper (unless
   ``m`` itself was called twice, once for each: a shared module holding both): ``m`` is never
   wrong, only shallow, and a prefix of a module path is a module of the model, so no module is
   named that the model lacks. A run with nothing on its edge, and a constant (a node with no
   inputs), stay the model's.

Anything else (a node the model's own ``forward`` ran, a node of another exporter with no
neighbour to go by) has the module ``""``, the model itself. A path found that a spec's
``module`` key cannot hold (a scope with a space or a tab, an empty level, hundreds of levels:
see :func:`~convcost.model.spec_check.is_module_path`) keeps its leading levels that it can hold,
as many as fit its length: the row goes to the innermost module that can be named, never refused.
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
#: A parameter or buffer as ``state_dict`` names it: its owner's levels, then an identifier.
_PARAMETER = re.compile(r"([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)\.[A-Za-z_][A-Za-z0-9_]*")


def module_paths(nodes: Iterable[NodeProto], initializers: Mapping[str, object]) -> dict[int, str]:
    """Each node's module path, by ``id(node)``; nodes are read in graph order (calls again come later)."""
    seen: set[str] = set()
    listed = list(nodes)
    own: list[str | None] = []
    for node in listed:
        path = _weight_module(node, initializers) or _scoped(node)
        if path is None:
            path = _torchscript(node.name, seen)
        if path is None:
            path = _owner(node, initializers)
        own.append(path)
    if any(path is None for path in own):
        _from_reader(listed, own, initializers)
        _from_neighbours(listed, own, initializers)
    return {id(node): _holdable(path or "") for node, path in zip(listed, own, strict=True)}


def _from_reader(nodes: list[NodeProto], own: list[str | None], initializers: Mapping[str, object]) -> None:
    """Rule 5's first step: a node reading a constant, whose one reader holds a parameter of
    module ``m`` (a linear split into MatMul and an Add of ``m.bias``), ran in ``m``."""
    readers: dict[str, list[int]] = {}
    for index, node in enumerate(nodes):
        for name in node.input:
            readers.setdefault(name, []).append(index)
    for index, node in enumerate(nodes):
        weighted = any(name in initializers for name in node.input)  # a weight folded: ``val_3``
        if own[index] is not None or not weighted or len(node.output) != 1:
            continue
        reading = readers.get(node.output[0], [])
        if len(reading) == 1:
            reader = nodes[reading[0]]
            holder = _weight_module(reader, initializers) or _owner(reader, initializers)
            if holder:
                own[index] = holder


def _from_neighbours(
    nodes: list[NodeProto], own: list[str | None], initializers: Mapping[str, object]
) -> None:
    """Rule 5: each run of nodes without a module of their own takes the deepest module holding
    every known module on its edge (the model's inputs and outputs are the model's)."""
    producer: dict[str, int] = {}
    for index, node in enumerate(nodes):
        if node.input:  # a constant's value says nothing about where its readers ran
            for name in node.output:
                if name:
                    producer[name] = index
    readers: dict[str, list[int]] = {}
    for index, node in enumerate(nodes):
        for name in node.input:
            if name and name not in initializers:
                readers.setdefault(name, []).append(index)
    done: set[int] = set()
    for first, path in enumerate(own):
        if path is not None or first in done or not nodes[first].input:
            continue
        run, edge, stack = [first], set[str](), [first]
        done.add(first)
        while stack:
            index = stack.pop()
            node = nodes[index]
            linked = [producer.get(name) for name in node.input if name and name not in initializers]
            if any(link is None for link in linked):
                edge.add("")  # a model input (or a value no node makes): the model's own
            for name in node.output:
                if name and name not in readers:
                    edge.add("")  # a model output: read by the model's caller
                linked.extend(readers.get(name, ()))
            for link in linked:
                if link is None or link in done:
                    continue
                known = own[link]
                if known is not None:
                    edge.add(known)
                elif nodes[link].input:
                    done.add(link)
                    run.append(link)
                    stack.append(link)
        holder = _common(edge) if edge else ""
        for index in run:
            own[index] = holder


def _common(paths: Iterable[str]) -> str:
    """The deepest module holding every one of ``paths``."""
    common: list[str] | None = None
    for path in paths:
        levels = path.split(".") if path else []
        if common is None:
            common = levels
        else:
            size = 0
            while size < min(len(common), len(levels)) and common[size] == levels[size]:
                size += 1
            common = common[:size]
    return ".".join(common or [])


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


def _scoped(node: NodeProto) -> str | None:
    for prop in node.metadata_props:
        if prop.key != NAME_SCOPES:
            continue
        try:
            scopes = ast.literal_eval(prop.value)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None  # not the exporter's list: the node's module is not known from it
        if isinstance(scopes, list) and len(scopes) >= 2 and isinstance(scopes[-2], str):
            return scopes[-2]
        return None
    return None


def _owner(node: NodeProto, initializers: Mapping[str, object]) -> str | None:
    for name in node.input:
        if name in initializers:
            match = _PARAMETER.fullmatch(name)
            if match is not None:
                return match.group(1)
    return None


def _torchscript(name: str, seen: set[str]) -> str | None:
    if not name.startswith("/"):
        return None
    path = ""
    for scope in name.split("/")[1:-1]:
        # a scope is the end of the module's path that its parent's path lacks, beginning with
        # as many of the parent's last levels as the exporter gave it: under ``layer1.0``,
        # ``conv1`` and ``downsample``; under ``layer1.0.downsample``, ``downsample.0``; under
        # ``layer1``, ``layer1.0``; under ``encoder``, ``layers.0`` (a ModuleList it iterates)
        levels, given = path.split(".") if path else [], scope.split(".")
        overlap = next(
            (k for k in range(min(len(levels), len(given) - 1), 0, -1) if levels[-k:] == given[:k]), 0
        )
        head, part = given[overlap:-1], given[-1]
        base = ".".join([*levels, *head])
        again = _AGAIN.fullmatch(part)
        if again is not None and _join(base, again.group(1)) in seen:
            part = again.group(1)
        if not part:
            return ""
        path = _join(base, part)
        seen.add(path)
    return path


def _join(parent: str, child: str) -> str:
    return f"{parent}.{child}" if parent else child
