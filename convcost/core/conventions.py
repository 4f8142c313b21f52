"""The counting conventions, stated once and quoted by help text, tables and JSON."""

from __future__ import annotations

MACS = "MACs = multiply-accumulates (one per weight tap per output element); a bias add is never a MAC"
FLOPS = "FLOPs = 2 × MACs, plus one add per output element when bias is on"
ADDS = "adds = exact additions: (taps per output − 1) per output element, plus the bias add"
PARAMS = "params = weights, plus C_out biases when bias is on"
EINSUM = (
    "an ONNX Einsum of two or more operands is contracted pairwise, left to right; each pair's MACs are "
    "the product of the sizes of every distinct index in it"
)
RECURRENT = (
    "an ONNX LSTM, GRU or RNN costs T·B·(gates·H)·(I+H) MACs per direction (gates: LSTM 4, GRU 3, RNN 1; "
    "T the whole sequence); its W, R, B and peepholes are params; the gates' element-wise work is left out"
)
CONSTANTS = (
    "ONNX compute whose inputs are all constants is costed as layers like any other (it runs at every "
    "inference unless a runtime folds it); with fold_constants it is folded and costs nothing. Params are "
    "the initializers read as weights, as tables (a Gather's data) or combined with activations, each "
    "once: a constant that is only a layer's input (a coordinate table) is none, and a computed tensor "
    "never is"
)

#: The ``conventions`` object of every JSON report.
AS_JSON = {
    "macs": MACS,
    "flops": FLOPS,
    "adds": ADDS,
    "params": PARAMS,
    "einsum": EINSUM,
    "recurrent": RECURRENT,
    "constants": CONSTANTS,
}

#: One line for the foot of tables.
FOOTER = "MACs = multiply-accumulates (bias never a MAC); FLOPs = 2·MACs (+1 per output with bias)."
