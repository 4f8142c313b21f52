"""Tiny plain-PyTorch structures covering the graph patterns convcost must handle.

Each public function returns ``(model, example_input_shape)``; models are built in
eval mode with a fixed seed so their exported graphs are reproducible. Channel counts
and inputs are deliberately tiny so that ONNX fixtures stay a few KB.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .zoo import ShuffleInvertedResidual

Shape = tuple[int, ...]


def _cbr(
    c_in: int,
    c_out: int,
    k: int = 3,
    s: int = 1,
    p: int | None = None,
    groups: int = 1,
    act: type[nn.Module] | None = nn.ReLU,
    dilation: int = 1,
) -> nn.Sequential:
    """Conv (no bias) + BatchNorm + optional activation."""
    if p is None:
        p = (k - 1) // 2 * dilation
    layers: list[nn.Module] = [
        nn.Conv2d(c_in, c_out, k, s, p, dilation=dilation, groups=groups, bias=False),
        nn.BatchNorm2d(c_out),
    ]
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


def _ready(model: nn.Module, shape: Shape) -> tuple[nn.Module, Shape]:
    return model.eval(), shape


# --------------------------------------------------------------------------- dense_block
class _DenseLayer(nn.Module):
    def __init__(self, c_in: int, growth: int, bn_size: int) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(c_in)
        self.relu1 = nn.ReLU()
        self.conv1 = nn.Conv2d(c_in, bn_size * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth)
        self.relu2 = nn.ReLU()
        self.conv2 = nn.Conv2d(bn_size * growth, growth, 3, padding=1, bias=False)

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        x = torch.cat(features, 1)
        x = self.conv1(self.relu1(self.norm1(x)))
        return self.conv2(self.relu2(self.norm2(x)))


class DenseBlockNet(nn.Module):
    def __init__(self, c0: int = 16, growth: int = 8, bn_size: int = 4, n_layers: int = 3) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, c0, 3, padding=1, bias=False)
        self.layers = nn.ModuleList(_DenseLayer(c0 + i * growth, growth, bn_size) for i in range(n_layers))
        c = c0 + n_layers * growth
        self.transition = nn.Sequential(
            nn.BatchNorm2d(c),
            nn.ReLU(),
            nn.Conv2d(c, c // 2, 1, bias=False),
            nn.AvgPool2d(2, 2),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [self.stem(x)]
        for layer in self.layers:
            features.append(layer(features))
        return self.transition(torch.cat(features, 1))


def dense_block() -> tuple[nn.Module, Shape]:
    torch.manual_seed(0)
    return _ready(DenseBlockNet(), (1, 3, 16, 16))


# --------------------------------------------------------------------------- se_block
class SqueezeExcite(nn.Module):
    def __init__(self, c: int, squeeze: int, gate: type[nn.Module]) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(c, squeeze, 1)
        self.relu = nn.ReLU()
        self.fc2 = nn.Conv2d(squeeze, c, 1)
        self.gate = gate()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.gate(self.fc2(self.relu(self.fc1(self.avgpool(x)))))
        return s * x


class SEInvertedResidual(nn.Module):
    def __init__(self, c: int, expand: int, k: int, gate: type[nn.Module]) -> None:
        super().__init__()
        self.expand = _cbr(c, expand, 1, act=nn.Hardswish)
        self.depthwise = _cbr(expand, expand, k, groups=expand, act=nn.Hardswish)
        self.se = SqueezeExcite(expand, expand // 4, gate)
        self.project = _cbr(expand, c, 1, act=None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.project(self.se(self.depthwise(self.expand(x))))


class SENet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = _cbr(3, 16, 3, 2, act=nn.Hardswish)
        self.block1 = SEInvertedResidual(16, 32, 3, nn.Hardsigmoid)  # MobileNetV3 style
        self.block2 = SEInvertedResidual(16, 48, 5, nn.Sigmoid)  # EfficientNet style gate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block2(self.block1(self.stem(x)))


def se_block() -> tuple[nn.Module, Shape]:
    torch.manual_seed(0)
    return _ready(SENet(), (1, 3, 16, 16))


# --------------------------------------------------------------------------- shuffle_unit
# The unit is the zoo's ShuffleNetV2 unit, one class for both.
ShuffleUnit = ShuffleInvertedResidual


class ShuffleNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = _cbr(3, 24, 3, 1)
        self.unit1 = ShuffleUnit(24, 48, 2)
        self.unit2 = ShuffleUnit(48, 48, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.unit2(self.unit1(self.stem(x)))


def shuffle_unit() -> tuple[nn.Module, Shape]:
    torch.manual_seed(0)
    return _ready(ShuffleNet(), (1, 3, 16, 16))


# --------------------------------------------------------------------------- inception
class InceptionNet(nn.Module):
    """GoogLeNet-style module between two ceil_mode max pools.

    32x32 -> conv3x3 (no pad) 30x30 -> MaxPool(3, 2, ceil) 15x15 (floor mode would give 14)
    -> inception 15x15 -> MaxPool(2, 2, ceil) 8x8 (floor: 7) -> conv1x1.
    """

    def __init__(self) -> None:
        super().__init__()
        self.stem = _cbr(3, 16, 3, 1, p=0)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.b1 = _cbr(16, 8, 1)
        self.b2 = nn.Sequential(_cbr(16, 8, 1), _cbr(8, 12, 3))
        self.b3 = nn.Sequential(_cbr(16, 4, 1), _cbr(4, 6, 5))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), _cbr(16, 6, 1))
        self.pool2 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.head = nn.Conv2d(32, 16, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool1(self.stem(x))
        x = torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)
        return self.head(self.pool2(x))


def inception() -> tuple[nn.Module, Shape]:
    torch.manual_seed(0)
    return _ready(InceptionNet(), (1, 3, 32, 32))


# --------------------------------------------------------------------------- aspp
class ASPPPooling(nn.Sequential):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        for mod in self:
            x = mod(x)
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class ASPPNet(nn.Module):
    def __init__(self, c_in: int = 16, c: int = 8, rates: tuple[int, ...] = (2, 3, 4)) -> None:
        super().__init__()
        self.backbone = _cbr(3, c_in, 3, 2)
        self.convs = nn.ModuleList([_cbr(c_in, c, 1)])
        for r in rates:
            self.convs.append(_cbr(c_in, c, 3, p=r, dilation=r))
        self.convs.append(ASPPPooling(c_in, c))
        self.project = nn.Sequential(_cbr(c * (len(rates) + 2), c, 1), nn.Dropout(0.5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.backbone(x)
        return self.project(torch.cat([conv(x) for conv in self.convs], 1))


def aspp() -> tuple[nn.Module, Shape]:
    torch.manual_seed(0)
    return _ready(ASPPNet(), (1, 3, 32, 32))


# --------------------------------------------------------------------------- convnext_block
class ConvNeXtBlock(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), 1e-6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dwconv(x).permute(0, 2, 3, 1)
        y = self.pwconv2(self.act(self.pwconv1(self.norm(y))))
        y = (self.gamma * y).permute(0, 3, 1, 2)
        return x + y


class ConvNeXtNet(nn.Module):
    def __init__(self, dim: int = 16) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, dim, 4, 4)
        self.block = ConvNeXtBlock(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(self.stem(x))


def convnext_block() -> tuple[nn.Module, Shape]:
    torch.manual_seed(0)
    return _ready(ConvNeXtNet(), (1, 3, 32, 32))


# --------------------------------------------------------------------------- vit_block(_mha)
class ExplicitAttention(nn.Module):
    """Self-attention with every matmul spelled out (no MHA module, no SDPA)."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj(x)


class MHAAttention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attn(x, x, x, need_weights=False)[0]


class ViTBlock(nn.Module):
    def __init__(self, dim: int, heads: int, mlp: int, attention: type[nn.Module]) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = attention(dim, heads)
        self.ln_2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp), nn.GELU(), nn.Linear(mlp, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class TinyViT(nn.Module):
    def __init__(
        self,
        attention: type[nn.Module],
        image: int = 16,
        patch: int = 4,
        dim: int = 32,
        heads: int = 4,
        mlp: int = 64,
        classes: int = 10,
    ) -> None:
        super().__init__()
        n = (image // patch) ** 2
        self.patch_embed = nn.Conv2d(3, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, n + 1, dim) * 0.02)
        self.block = ViTBlock(dim, heads, mlp, attention)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = self.block(x + self.pos_embed)
        return self.head(self.norm(x)[:, 0])


def vit_block() -> tuple[nn.Module, Shape]:
    torch.manual_seed(0)
    return _ready(TinyViT(ExplicitAttention), (1, 3, 16, 16))


def vit_block_mha() -> tuple[nn.Module, Shape]:
    """Same dims/params as vit_block, attention through nn.MultiheadAttention (FlopCounterMode blind spot)."""
    torch.manual_seed(0)
    return _ready(TinyViT(MHAAttention), (1, 3, 16, 16))


# --------------------------------------------------------------------------- two_head_detector
class TwoHeadDetector(nn.Module):
    def __init__(self, anchors: int = 3, classes: int = 4) -> None:
        super().__init__()
        self.backbone = nn.Sequential(_cbr(3, 16, 3, 2), _cbr(16, 32, 3, 2))
        self.cls_head = nn.Conv2d(32, anchors * classes, 3, padding=1)
        self.box_head = nn.Conv2d(32, anchors * 4, 3, padding=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.backbone(x)
        return self.cls_head(f), self.box_head(f)


def two_head_detector() -> tuple[nn.Module, Shape]:
    torch.manual_seed(0)
    return _ready(TwoHeadDetector(), (1, 3, 32, 32))


# --------------------------------------------------------------------------- fpn
class FPN(nn.Module):
    def __init__(self, chans: tuple[int, ...] = (8, 16, 32), out: int = 16) -> None:
        super().__init__()
        c_prev = 3
        stages = []
        for c in chans:
            stages.append(_cbr(c_prev, c, 3, 2))
            c_prev = c
        self.stages = nn.ModuleList(stages)
        self.lateral = nn.ModuleList(nn.Conv2d(c, out, 1) for c in chans)
        self.output = nn.ModuleList(nn.Conv2d(out, out, 3, padding=1) for _ in chans)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        lat = [conv(f) for conv, f in zip(self.lateral, feats, strict=True)]
        top = lat[-1]
        merged = [top]
        for lateral in reversed(lat[:-1]):
            top = lateral + F.interpolate(top, scale_factor=2, mode="nearest")
            merged.insert(0, top)
        return tuple(conv(m) for conv, m in zip(self.output, merged, strict=True))


def fpn() -> tuple[nn.Module, Shape]:
    torch.manual_seed(0)
    return _ready(FPN(), (1, 3, 32, 32))


# --------------------------------------------------------------------------- batch2 / dynamic
class SmallNet(nn.Module):
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(_cbr(3, 8, 3, 2), _cbr(8, 16, 3, 2))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))


def batch2() -> tuple[nn.Module, Shape]:
    torch.manual_seed(0)
    return _ready(SmallNet(), (2, 3, 16, 16))


def dynamic() -> tuple[nn.Module, Shape]:
    """Exported with symbolic batch, H and W; the truth MACs are for the example shape."""
    torch.manual_seed(0)
    return _ready(SmallNet(), (1, 3, 32, 32))


# --------------------------------------------------------------------------- gemm_transa
class GemmTransA(nn.Module):
    """addmm(b, x.t(), W): the TorchScript exporter fuses the transpose into Gemm(transA=1)."""

    def __init__(self, k: int = 16, n: int = 10) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(k, n))
        self.bias = nn.Parameter(torch.randn(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (K, M)
        return torch.addmm(self.bias, x.t(), self.weight)


def gemm_transa() -> tuple[nn.Module, Shape]:
    torch.manual_seed(0)
    return _ready(GemmTransA(), (16, 4))


STRUCTURES = {
    f.__name__: f
    for f in (
        dense_block,
        se_block,
        shuffle_unit,
        inception,
        aspp,
        convnext_block,
        vit_block,
        vit_block_mha,
        two_head_detector,
        fpn,
        batch2,
        dynamic,
        gemm_transa,
    )
}
