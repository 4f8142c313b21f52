"""The op entries, by family; importing this package registers every one (see :mod:`..registry`)."""

from . import conv, elementwise, linear, norms, opaque, pooling, recurrent, shape

__all__ = ["conv", "elementwise", "linear", "norms", "opaque", "pooling", "recurrent", "shape"]
