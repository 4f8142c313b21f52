"""A PyTorch module exported to ONNX in memory, its nodes named after its modules.

torch's TorchScript exporter runs offline and writes node names from the module scopes
(``/layer1/layer1.0/conv1/Conv``). Each node is renamed to its module's qualified name
(``layer1.0.conv1``, which becomes the row ``layer1_0_conv1``: spec names take no dots), with the
op added where a module holds several nodes or the node is the module's own arithmetic
(``layer1.0.Add``). The renamed node no longer carries its scopes, so its module path is written
into the dynamo exporter's ``name_scopes`` metadata, which the ONNX reader reads
(:mod:`convcost.io.onnx.modules`): rows get the modules an export to a file would give them.
A module called again (a shared ``ReLU``) has its scope with ``_1`` added; it is the same module.
Needs the torch extra; torch is imported only here.
"""

from __future__ import annotations

import io
import re
import warnings
from collections import Counter
from collections.abc import Sequence
from math import prod
from typing import Any

from ..core import limits
from ..core.errors import ConvCostError, bad_value
from .onnx.modules import NAME_SCOPES

#: The opset the export asks for: every op convcost costs is in it.
OPSET = 17
_AGAIN = re.compile(r"(.+)_[0-9]+")


def example_inputs(example: object) -> tuple[Any, ...]:
    """The module's arguments: zeros of a shape (ints, batch first, as PyTorch's order), a tensor,
    or a tuple of tensors."""
    import torch

    if isinstance(example, torch.Tensor):
        return (example,)
    if isinstance(example, Sequence) and example and all(isinstance(d, torch.Tensor) for d in example):
        return tuple(example)
    if (
        isinstance(example, Sequence)
        and example
        and all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in example)
    ):
        if len(example) > limits.MAX_DIMS:
            raise bad_value("input", example, f"expected at most {limits.MAX_DIMS} dims")
        if prod(example) > limits.MAX_EXAMPLE_ELEMENTS:
            raise bad_value(
                "input",
                example,
                f"the module is run on zeros of this shape to export it, and at most "
                f"{limits.MAX_EXAMPLE_ELEMENTS:,} elements are made; give a smaller shape, or cost "
                "its ONNX export with --in (input_shape=) for the size wanted",
            )
        return (torch.zeros(tuple(example)),)
    allowed = "expected a shape such as (1, 3, 224, 224), a tensor, or a tuple of them"
    raise bad_value("input", example, allowed)


def export(module: Any, example: object) -> bytes:
    """The ONNX bytes of ``module`` run on ``example`` (see :func:`example_inputs`), in eval mode."""
    import torch

    if isinstance(module, torch.jit.ScriptModule):  # its graph has no module scopes to read, nor submodules
        raise ConvCostError(
            "source",
            "is a TorchScript module (torch.jit.script or trace); pass the torch.nn.Module it was made from",
        )
    args = example_inputs(example)
    buffer = io.BytesIO()
    target: Any = buffer  # the exporter writes to any binary file object; its stubs say a path
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # the TorchScript exporter announces its deprecation: noise to a user who asked for a cost
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(module, args, target, dynamo=False, opset_version=OPSET)
    except (RuntimeError, TypeError, ValueError) as exc:  # torch's own refusals of a module or input
        detail = " ".join(str(exc).split())[:300]
        raise ConvCostError("input", f"torch cannot export the module: {detail}") from None
    finally:
        module.train(was_training)
    return _named_after_modules(buffer.getvalue(), module)


def _named_after_modules(data: bytes, root: Any) -> bytes:
    import onnx

    model = onnx.load_from_string(data)
    paths = [_module_path(node.name, root) for node in model.graph.node]
    per_module = Counter(path for path in paths if path)
    for node, path in zip(model.graph.node, paths, strict=True):
        if path is None:
            continue
        module = root.get_submodule(path) if path else root
        leaf = not any(True for _ in module.children())
        own = path and leaf and per_module[path] == 1
        node.name = path if own else ".".join(filter(None, [path, node.op_type]))
        if path:
            parts = path.split(".")
            scopes = ["", *(".".join(parts[: k + 1]) for k in range(len(parts))), node.op_type]
            entry = node.metadata_props.add()
            entry.key, entry.value = NAME_SCOPES, repr(scopes)
    return model.SerializeToString()  # type: ignore[no-any-return]


def _module_path(name: str, root: Any) -> str | None:
    """The qualified name of the module a node's scope names ('' for the root; None when the name
    is not a scope, as for the exporter's own ``Identity_0``)."""
    if not name.startswith("/"):
        return None
    segments = name.strip("/").split("/")[:-1]
    current, path = root, list[str]()
    for segment in segments:
        children = dict(current.named_children())
        prefix = ".".join(path) + "." if path else ""
        attribute = segment[len(prefix) :] if segment.startswith(prefix) and prefix else segment
        again = _AGAIN.fullmatch(attribute)
        if attribute not in children and again is not None:
            attribute = again.group(1)  # the module called again: the exporter's scope ``relu_1``
        if attribute not in children:
            return None
        current = children[attribute]
        path.append(attribute)
    return ".".join(path)
