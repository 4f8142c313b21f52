"""Built-in device profiles for roofline estimates, from vendors' datasheets.

Peaks are *dense* figures (no structured sparsity), an FMA counted as 2 FLOPs.
fp32 is the plain FP32 rate (CUDA cores / NEON), not TF32 tensor math. Where a
datasheet gives only some dtypes, the derivation is stated beside the number.
These are upper bounds on speed: real kernels reach a fraction of them.
"""

from __future__ import annotations

from typing import NamedTuple

from .dtypes import DType
from .errors import ConvCostError


class Device(NamedTuple):
    """Peak dense throughput per dtype (FLOP/s, an FMA counted as 2) and memory bandwidth (bytes/s)."""

    name: str
    title: str
    peak: dict[DType, float]
    bandwidth: float
    source: str


_T = 1e12
_G = 1e9

DEVICES: dict[str, Device] = {
    device.name: device
    for device in (
        Device(
            "h100",
            "NVIDIA H100 SXM5 80GB",
            {DType.FP32: 67 * _T, DType.FP16: 989.4 * _T, DType.BF16: 989.4 * _T, DType.INT8: 1978.9 * _T},
            3.35e12,
            "NVIDIA H100 Tensor Core GPU datasheet (SXM5): FP32 67 TFLOPS; FP16/BF16 Tensor 1,979 "
            "TFLOPS and INT8 3,958 TOPS with sparsity, half that dense; HBM3 3.35 TB/s",
        ),
        Device(
            "a100",
            "NVIDIA A100 SXM4 80GB",
            {DType.FP32: 19.5 * _T, DType.FP16: 312 * _T, DType.BF16: 312 * _T, DType.INT8: 624 * _T},
            2.039e12,
            "NVIDIA A100 Tensor Core GPU datasheet (80GB SXM): FP32 19.5 TFLOPS; FP16/BF16 Tensor "
            "312 TFLOPS, INT8 624 TOPS (dense); HBM2e 2,039 GB/s",
        ),
        Device(
            "rtx4090",
            "NVIDIA GeForce RTX 4090",
            {DType.FP32: 82.6 * _T, DType.FP16: 165.2 * _T, DType.BF16: 165.2 * _T, DType.INT8: 660.6 * _T},
            1.008e12,
            "NVIDIA Ada Lovelace GPU architecture whitepaper, RTX 4090: FP32 82.6 TFLOPS; FP16 and "
            "BF16 Tensor with FP32 accumulate 165.2 TFLOPS, INT8 Tensor 660.6 TOPS (dense); "
            "GDDR6X 1,008 GB/s",
        ),
        Device(
            "orin",
            "NVIDIA Jetson AGX Orin 64GB (GPU only)",
            {DType.FP32: 5.3 * _T, DType.FP16: 42.5 * _T, DType.BF16: 42.5 * _T, DType.INT8: 85 * _T},
            204.8 * _G,
            "NVIDIA Jetson AGX Orin Series technical brief: GPU 5.3 FP32 TFLOPS and 170 sparse INT8 "
            "TOPS (85 dense); FP16/BF16 Tensor taken as half the dense INT8 rate; LPDDR5 204.8 GB/s. "
            "The DLAs are left out",
        ),
        Device(
            "rpi5",
            "Raspberry Pi 5 (4× Cortex-A76 @ 2.4 GHz)",
            {
                DType.FP32: 153.6 * _G,
                DType.FP16: 307.2 * _G,
                DType.BF16: 153.6 * _G,
                DType.INT8: 614.4 * _G,
            },
            17.07 * _G,
            "Raspberry Pi 5 product brief: quad Cortex-A76 at 2.4 GHz, 32-bit LPDDR4X-4267 "
            "(17.07 GB/s); Arm Cortex-A76 optimization guide: two 128-bit NEON pipes per core, so "
            "16 FP32, 32 FP16 FLOPs and 64 INT8 (SDOT) ops per cycle per core; no BF16 "
            "instructions (v8.2), so bf16 runs at the fp32 rate",
        ),
    )
}


def find_device(name: str) -> Device:
    key = name.strip().lower().replace("-", "").replace("_", "").replace(" ", "")
    if key in DEVICES:
        return DEVICES[key]
    raise ConvCostError(
        "device",
        f"{name!r} is not a device profile; expected one of {', '.join(DEVICES)} "
        "(or give peak_tflops and bandwidth_gbs)",
    )


class Board(NamedTuple):
    """A microcontroller or NPU system: the SRAM activations can use and the flash weights sit in (bytes).

    Vendors' "KB" and "MB" are binary (KiB, MiB); the figures here are bytes.
    """

    name: str
    title: str
    sram: int
    flash: int
    source: str


_KIB = 1024
_MIB = 1024 * 1024

BOARDS: dict[str, Board] = {
    board.name: board
    for board in (
        Board(
            "stm32f411",
            "STMicroelectronics STM32F411xE (Cortex-M4)",
            128 * _KIB,
            512 * _KIB,
            "ST DS10314 (STM32F411xC/xE datasheet): up to 512 Kbytes of Flash memory, 128 Kbytes of SRAM",
        ),
        Board(
            "stm32f746",
            "STMicroelectronics STM32F746xG (Cortex-M7)",
            320 * _KIB,
            1 * _MIB,
            "ST DS10916 (STM32F745xx/STM32F746xx datasheet): up to 1 Mbyte of Flash; 320 Kbytes of "
            "SRAM including 64 Kbytes of DTCM (the 16 Kbytes of ITCM and 4 Kbytes of backup SRAM "
            "not counted); MCUNet's board",
        ),
        Board(
            "stm32h743",
            "STMicroelectronics STM32H743xI (Cortex-M7)",
            992 * _KIB,
            2 * _MIB,
            "ST DS12110 (STM32H742xI/G, STM32H743xI/G datasheet): up to 2 Mbytes of Flash; 'up to "
            "1 Mbyte of RAM': 128 Kbytes of DTCM and up to 864 Kbytes of user SRAM counted here (the "
            "64 Kbytes of ITCM hold code, the 4 Kbytes of backup SRAM are left out). The RAM is in "
            "banks: the largest, AXI SRAM, is 512 Kbytes",
        ),
        Board(
            "nrf52840",
            "Nordic nRF52840 (Cortex-M4F)",
            256 * _KIB,
            1 * _MIB,
            "Nordic nRF52840 Product Specification v1.7: 1 MB flash and 256 KB RAM",
        ),
        Board(
            "nano33ble",
            "Arduino Nano 33 BLE (Sense) — nRF52840",
            256 * _KIB,
            1 * _MIB,
            "Arduino Nano 33 BLE datasheet: nRF52840, 1 MB flash and 256 KB SRAM (the chip's; the "
            "Mbed OS core uses part of the SRAM); TensorFlow Lite Micro's reference board",
        ),
        Board(
            "rp2040",
            "Raspberry Pi Pico (RP2040, Cortex-M0+)",
            264 * _KIB,
            2 * _MIB,
            "RP2040 datasheet: 264 kB on-chip SRAM in six banks; Raspberry Pi Pico datasheet: 2 MB "
            "QSPI flash on the board",
        ),
        Board(
            "esp32s3",
            "Espressif ESP32-S3-WROOM-1-N8 (Xtensa LX7)",
            512 * _KIB,
            8 * _MIB,
            "ESP32-S3 datasheet: 512 KB SRAM on chip (the 16 KB of RTC SRAM left out); "
            "ESP32-S3-WROOM-1 datasheet: the N8 module has 8 MB of quad SPI flash (modules with "
            "PSRAM add off-chip RAM, not counted)",
        ),
        Board(
            "alif-e7",
            "Alif Ensemble E7 (Cortex-M55 + Arm Ethos-U55 NPUs)",
            13 * _MIB + 512 * _KIB,
            5 * _MIB + 512 * _KIB,
            "Alif Semiconductor Ensemble E7 product brief: up to 13.5 MB of SRAM and 5.5 MB of MRAM "
            "(non-volatile, where weights sit) at the largest part number; smaller parts have less",
        ),
    )
}


def find_board(name: str) -> Board:
    key = name.strip().lower().replace("_", "-").replace(" ", "")
    for board in BOARDS.values():
        if key in (board.name, board.name.replace("-", "")):
            return board
    raise ConvCostError(
        "board", f"{name!r} is not a board profile; expected one of {', '.join(BOARDS)} (or a size: 256KiB)"
    )
