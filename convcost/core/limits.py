"""Every budget convcost enforces, in one place, each checked before the work it bounds.

Hostile or careless input — a huge file, an alias bomb, an int of thousands of digits, a
sweep of a billion points — must end quickly with one clear line, in bounded memory. The
README's "Limits" section lists these; each limit's error names it and the option or spec
path that crossed it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

#: Digits of any int a user gives (flags, specs, the Python API), sign not counted.
MAX_DIGITS = 30
MAX_INT: int = 10**MAX_DIGITS - 1
#: Values in one shape or per-dim list (``28x28x8``, ``3x3``, ``0:1x0:1``): spatial dims plus
#: channels. Far above any layer (conv is 1-D to 3-D, ONNX tensors a handful of dims), and
#: checked before a long ``1x1x…`` text is split, so that it cannot cost time downstream.
MAX_DIMS = 32
#: Any count or size a result may reach (MACs, params, elements, receptive fields): 10^200.
#: Far beyond any network, and small enough that sums, batch sizes and byte counts stay
#: exact, printable and convertible to floats.
MAX_RESULT_DIGITS = 200
MAX_RESULT: int = 10**MAX_RESULT_DIGITS

#: Bytes of a spec file (YAML or JSON) or of stdin; a 10,000-layer spec is about 0.6 MB.
#: (Its values are counted too: the byte limit bounds memory, the value limit time.)
MAX_SPEC_BYTES = 16 * 1024 * 1024
#: Bytes of an ONNX model (weights included: export without them for big models).
MAX_ONNX_BYTES = 256 * 1024 * 1024
#: Values in a spec file (each number, text, list and mapping counts once), counted as the
#: YAML parser composes them (for JSON, bounded from its commas and brackets before parsing).
MAX_SPEC_VALUES = 250_000
#: Values after every YAML alias and merge key is expanded (counted, never expanded).
MAX_EXPANDED_VALUES = 2_000_000

#: Layers of a network after expanding blocks and repeats: the rows it lists (its totals are
#: summed without expanding repeats).
MAX_LAYERS = 200_000
#: Layers of the graph: blocks and aliases expanded, each repeat's body counted once.
MAX_GRAPH_NODES = 20_000
#: Layers costed one by one: the graph's, and a repeat's copies until they settle into one
#: shape (a repeat whose copies keep changing costs every copy).
MAX_COSTED_LAYERS = 20_000
#: The layer budget above, as ``--max-layers`` (and :func:`allowing`) raise it: what
#: MAX_GRAPH_NODES and MAX_COSTED_LAYERS are by default. Up to this, any bad spec ends
#: within 2 s; past it a generated network can be costed, at about 0.1 ms a layer.
DEFAULT_MAX_LAYERS = MAX_GRAPH_NODES
#: The most ``--max-layers`` may allow: about what a 16 MiB spec holds, and 40 s and 4 GB of
#: costing and output at most.
MAX_MAX_LAYERS = 300_000

#: Elements of the zeros a PyTorch module is run on to export it, when ``input=`` gives a shape:
#: 400 MB of float32 (its activations take more), checked before anything is allocated. A
#: bigger example is a tensor the caller made, or the exported model costed with ``--in``.
MAX_EXAMPLE_ELEMENTS = 100_000_000

#: Points of one sweep (the product of its lists, computed before anything is expanded).
MAX_POINTS = 10_000
#: Problems collected from one spec before checking stops; the first few are printed.
MAX_PROBLEMS = 1_000
#: Error lines printed for one spec; the rest are counted.
MAX_ERROR_LINES = 20

#: Roofline peaks and bandwidths, in TFLOP/s and GB/s: from 1 MFLOP/s to 1 ZFLOP/s.
MIN_RATE = 1e-6
MAX_RATE = 1e9


def digits(value: int) -> int:
    """Decimal digits of ``abs(value)`` without converting it to text (exact up to an off-by-one
    near powers of ten for ints of thousands of digits, where only the order matters)."""
    value = abs(value)
    if value <= MAX_RESULT:
        return len(str(value))
    return int(value.bit_length() * 0.30102999566398120) + 1


@contextmanager
def allowing(layers: int) -> Iterator[None]:
    """Set the layer budgets for one run: ``compare --max-layers``.

    Graph layers and layers costed one by one become ``layers``; rows listed, at least that.
    Spec values and values once aliases are expanded scale with them: below the default in
    proportion, and past it each layer adds 25 values and 100 expanded ones (a generated layer
    is a mapping of up to a dozen keys and values; the default's 12.5 a layer would refuse
    such a spec of N layers at N). The budgets bound the time a bad spec can take; a user
    costing a generated network of more layers raises them knowingly.
    """
    global MAX_GRAPH_NODES, MAX_COSTED_LAYERS, MAX_SPEC_VALUES, MAX_EXPANDED_VALUES, MAX_LAYERS
    saved = MAX_GRAPH_NODES, MAX_COSTED_LAYERS, MAX_SPEC_VALUES, MAX_EXPANDED_VALUES, MAX_LAYERS
    MAX_GRAPH_NODES = MAX_COSTED_LAYERS = layers
    if layers <= DEFAULT_MAX_LAYERS:
        MAX_SPEC_VALUES = saved[2] * layers // DEFAULT_MAX_LAYERS
        MAX_EXPANDED_VALUES = saved[3] * layers // DEFAULT_MAX_LAYERS
    else:
        MAX_SPEC_VALUES = saved[2] + 25 * (layers - DEFAULT_MAX_LAYERS)
        MAX_EXPANDED_VALUES = saved[3] + 100 * (layers - DEFAULT_MAX_LAYERS)
    MAX_LAYERS = max(saved[4], layers)
    try:
        yield
    finally:
        MAX_GRAPH_NODES, MAX_COSTED_LAYERS, MAX_SPEC_VALUES, MAX_EXPANDED_VALUES, MAX_LAYERS = saved
