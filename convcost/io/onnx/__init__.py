"""Reading ONNX models into the graph spec format (shapes need the optional ``onnx`` package).

The model becomes the same plain document a YAML spec gives, node for node: one spec entry
per ONNX node that does work or moves a shape, wired to its inputs by name, so
``compare model.onnx`` and ``compare`` of ``convcost import model.onnx`` agree by
construction. Nothing is squeezed into a chain: dense blocks, inception and ASPP concats,
channel shuffles, attention and several heads are graphs as they are.

A model is parsed by convcost's own protobuf reader (:mod:`.proto`, :mod:`.read`): its weights'
bytes are never read, and a file is mapped, not read. Its checks (:mod:`.checks`, against the op
schemas of :mod:`.schemas`) and the inlining of its local functions (:mod:`.inline`) need no onnx.
Shapes come from convcost's own inference (:mod:`.infer`): each op's shape rule (:mod:`.rules`) in
its registry entry, and the shape arithmetic folded in pure Python (:mod:`.tensor`). A graph with an
op that has no rule (another domain's, control flow) gets onnx's inference instead (:mod:`.inference`,
on a copy whose weight tensors keep their dims but not their bytes, :mod:`.write`), with a note that
says so. Every value is tracked as an
NCHW-style tensor or a plain tensor, and by where its batch axis is (:mod:`.layout`). The batch axis
is dropped: the document costs one sample and :attr:`Converted.batch` says how many the model's
input holds. A model that mixes its batch axis into the computation (a ``Gemm`` with ``transA``
over the batch) is costed as one pass over its whole input.

Each op is one entry in the registry (:mod:`.registry`, entries in ``ops/`` by family): its arity,
layout facts, constant fold and handler. Shape ops, constants and shape arithmetic cost nothing;
compute whose inputs are all constants is costed as layers, or folded with ``fold_constants``, and a
learned tensor used as an operand (a class token, a position embedding, a layer scale) or gathered as
a table is a ``parameter`` entry, its elements counted once (:mod:`.constants`). An op convcost
cannot cost becomes an ``opaque`` entry that passes its shape on, and is listed in the notes and in
:attr:`Converted.unsupported` —
never silently dropped. A malformed graph is a :class:`ConvCostError` naming the node (:mod:`.checks`).
"""

from .convert import INSTALL_HINT, Converted, convert, load
from .read import MAX_STATIC
from .schemas import OLDEST_OPSET

__all__ = [
    "INSTALL_HINT",
    "MAX_STATIC",
    "OLDEST_OPSET",
    "Converted",
    "convert",
    "load",
]
