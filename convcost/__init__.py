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

from .core.conv import Conv, Counts, conv, effective_macs
from .core.errors import ConvCostError
from .core.forms import Comparison, Part, Variant, compare

#: Names loaded on first use (name → module, attribute), so that ``import convcost`` stays cheap
#: for callers costing single layers. Functions named like their module get another name here.
_LAZY = {
    "cost": ("api", "cost"),
    "cost_layer": ("api", "cost_layer"),
    "cost_sweep": ("api", "cost_sweep"),
    "comparison_dict": ("output.json_report", "comparison_dict"),
    "network_dict": ("output.json_report", "network_dict"),
    "evaluate": ("model.evaluate", "evaluate"),
    "Options": ("model.whatif", "Options"),
    "Network": ("model.evaluate", "Network"),
    "SpecErrors": ("model.spec_check", "SpecErrors"),
    "make_settings": ("core.options", "settings"),
    "Settings": ("core.options", "Settings"),
    "DEVICES": ("core.devices", "DEVICES"),
    "sweep_points": ("model.sweep", "sweep"),
    "cost_many": ("core.batch", "cost_many"),
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
    "cost",
    "cost_layer",
    "cost_many",
    "cost_sweep",
    "effective_macs",
    "evaluate",
    "make_settings",
    "network_dict",
    "sweep_points",
]
