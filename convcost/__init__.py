"""convcost: the exact cost of convolution layers, without a deep-learning framework.

>>> from convcost import conv, compare
>>> layer = conv("28x28x8", 16, 3)
>>> layer.output_shape, layer.macs
((26, 26, 16), 778752)
>>> compare(layer).variants["depthwise_separable"].counts.macs
135200
"""

__version__ = "0.1.0"

from .conv import Conv, Counts, conv
from .errors import ConvCostError
from .report import comparison_dict
from .variants import Comparison, Part, Variant, compare

__all__ = [
    "Comparison",
    "Conv",
    "ConvCostError",
    "Counts",
    "Part",
    "Variant",
    "__version__",
    "compare",
    "comparison_dict",
    "conv",
]
