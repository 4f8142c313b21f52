"""convcost: the exact cost of convolution layers, without a deep-learning framework.

>>> from convcost import conv, compare
>>> layer = conv("28x28x8", 16, 3)
>>> layer.output_shape, layer.macs
((26, 26, 16), 778752)
>>> compare(layer).variants["depthwise_separable"].counts.macs
135200
"""

__version__ = "0.1.0"

from typing import Any

from .conv import Conv, Counts, conv, effective_macs
from .errors import ConvCostError
from .variants import Comparison, Part, Variant, compare

#: Names loaded on first use (name → module, attribute), so that ``import convcost`` stays cheap
#: for callers costing single layers. Functions named like their module get another name here.
_LAZY = {
    "comparison_dict": ("report", "comparison_dict"),
    "network_dict": ("report", "network_dict"),
    "evaluate": ("network", "evaluate"),
    "Options": ("network", "Options"),
    "Network": ("network", "Network"),
    "SpecErrors": ("network", "SpecErrors"),
    "make_settings": ("settings", "settings"),
    "Settings": ("settings", "Settings"),
    "DEVICES": ("devices", "DEVICES"),
    "sweep_points": ("sweep", "sweep"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(f".{module}", __name__), attribute)
    raise AttributeError(f"module 'convcost' has no attribute {name!r}")


__all__ = [
    "DEVICES",
    "Comparison",
    "Conv",
    "ConvCostError",
    "Counts",
    "Network",
    "Options",
    "Part",
    "Settings",
    "SpecErrors",
    "Variant",
    "__version__",
    "compare",
    "comparison_dict",
    "conv",
    "effective_macs",
    "evaluate",
    "make_settings",
    "network_dict",
    "sweep_points",
]
