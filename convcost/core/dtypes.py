"""Element types and their sizes."""

from __future__ import annotations

from enum import Enum


class DType(str, Enum):
    """Element types, with their size in bytes."""

    FP32 = "fp32"
    FP16 = "fp16"
    BF16 = "bf16"
    INT8 = "int8"

    @property
    def bytes(self) -> int:
        return 1 if self is DType.INT8 else 4 if self is DType.FP32 else 2
