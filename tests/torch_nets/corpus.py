"""A corpus of models from transformers and timm configs (and a few plain-torch nets), with their truth.

Every model is built from a config object in code, with random weights: nothing is read from a hub
(``HF_HUB_OFFLINE=1`` is set before transformers or timm is imported). Configs are small so that the
exports are quick and the graphs short; what they cover is the ops, not the size.

``CORPUS`` maps a name to a builder returning ``(model, example_inputs)``. Models return a tuple of
every tensor they compute, so that no exporter prunes a head FlopCounterMode counts.

Truth (``count``): MACs = FlopCounterMode total / 2, with formulas registered for the ops it has none
for on CPU torch 2.13 (each checked against the ops one forward pass dispatches):

* ``aten._scaled_dot_product_flash_attention_for_cpu`` — the CPU SDPA kernel that
  ``F.scaled_dot_product_attention`` dispatches to on CPU (timm's fused attention, transformers'
  ``sdpa`` attention): torch's own ``sdpa_flop_count``, QKᵀ and AV as two batched matmuls
  (b·h_q·s_q·s_k·d each; a causal mask does not halve it, as in the exported MatMuls).
* ``aten.mkldnn_rnn_layer`` — one direction of one layer of ``nn.LSTM`` on CPU: T·B·(4H)·(I+H) MACs,
  the input and recurrent products of the four gates (the weight shapes give 4H, I and H). ``nn.GRU``
  and ``nn.RNN`` dispatch to ``addmm``/``mm`` on CPU torch 2.13, which FlopCounterMode counts:
  T·B·(3H)·(I+H) and T·B·H·(I+H).
* ``nn.MultiheadAttention``'s fast path (``aten._native_multi_head_attention``) as in truth.py.

Any other op that multiplies tensors and has no formula makes ``count`` fail (``UNCOUNTED``), so a
new torch cannot quietly lose MACs from the truth.

Params = ``sum(p.numel() for p in model.parameters())``: a tensor shared by several modules (a tied
LM head, ALBERT's shared layers) counts once; ``shared`` lists those names.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
import types
from collections import Counter
from collections.abc import Callable
from typing import Any

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import torch
from torch import nn
from torch.utils import _pytree as pytree
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode, flop_registry, sdpa_flop_count, shape_wrapper
from torch.utils.weak import WeakIdKeyDictionary

aten = torch.ops.aten


# --- torchvision ---------------------------------------------------------------------------------
# timm imports torchvision (FrozenBatchNorm2d, transforms). The torchvision wheels on PyPI are built
# against CUDA torch and fail to import beside the CPU torch 2.13 ("operator torchvision::nms does
# not exist"). None of the corpus models uses torchvision, so when the real one cannot be imported
# its modules are replaced by stand-ins: any attribute is a placeholder class that raises if used.


class _Placeholder(type):
    def __getattr__(cls, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _Placeholder(name, (), {})

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"torchvision could not be imported; {cls.__name__} is a stand-in")


class _StandInModule(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _Placeholder(name, (), {})


class _StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name == "torchvision" or name.startswith("torchvision."):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec: Any) -> types.ModuleType:
        return _StandInModule(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        module.__path__ = []  # type: ignore[attr-defined]


def guard_torchvision() -> str:
    """Import torchvision, or put stand-ins in its place; say which."""
    try:
        import torchvision  # noqa: F401

        return "torchvision imported"
    except Exception as exc:  # the CUDA wheel beside CPU torch raises RuntimeError
        for key in [k for k in sys.modules if k == "torchvision" or k.startswith("torchvision.")]:
            del sys.modules[key]
        if not any(isinstance(f, _StandInFinder) for f in sys.meta_path):
            sys.meta_path.insert(0, _StandInFinder())
        return f"torchvision stand-in ({str(exc).splitlines()[0]})"


TORCHVISION = guard_torchvision()  # before transformers or timm is imported


# --- truth ---------------------------------------------------------------------------------------


def _sdpa_cpu(query, key, value, *args, out_shape=None, **kwargs) -> int:
    return sdpa_flop_count(query, key, value)


def _rnn_layer(inp, w_ih, w_hh, *args, out_shape=None, **kwargs) -> int:
    """mkldnn_rnn_layer(input, weight_ih, weight_hh, bias_ih, bias_hh, hx, cx, reverse, ...)."""
    gates_h, i = w_ih
    h = w_hh[1]
    tb = 1
    for d in inp:
        tb *= d
    tb //= i
    return 2 * tb * gates_h * (i + h)


FORMULAS = {
    aten._scaled_dot_product_flash_attention_for_cpu: _sdpa_cpu,
    aten.mkldnn_rnn_layer: _rnn_layer,
}
# ops that multiply tensors and that FlopCounterMode (with FORMULAS) would not count
UNCOUNTED = {
    "aten.mv",
    "aten.addmv",
    "aten.dot",
    "aten.vdot",
    "aten.addr",
    "aten.outer",
    "aten.bilinear",
    "aten._trilinear",
    "aten.conv_tbc",
    "aten._native_multi_head_attention",  # hand-counted below when it comes from nn.MultiheadAttention
    "aten._transformer_encoder_layer_fwd",
    "aten.mkldnn_linear",
    "aten._scaled_dot_product_attention_math",
    "aten._efficient_attention_forward",
    "aten._flash_attention_forward",
    "aten.miopen_rnn",
    "aten._thnn_fused_lstm_cell",
    "aten._thnn_fused_gru_cell",
    "aten.fft_r2c",
    "aten.fft_c2c",
}


class _OpLog(TorchDispatchMode):
    """Every op one forward pass dispatches, and the MACs of those that read no input-derived tensor.

    A tensor is input-derived if it is a model input or the output of an op that read one. An op
    with a FLOP formula whose tensor operands are all parameters, buffers or constants (a position
    MLP over a coordinate table, a Fourier position encoding, a recurrent product with the zero
    initial state) is compute an exporter may fold into a constant; its MACs are ``constant_macs``.
    """

    def __init__(self, inputs: tuple[torch.Tensor, ...]) -> None:
        super().__init__()
        self.ops: Counter[str] = Counter()
        self.live = WeakIdKeyDictionary()
        for x in inputs:
            self.live[x] = True
        self.constant_macs = 0
        self.constant_by_op: Counter[str] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        packet = func.overloadpacket
        self.ops[str(packet)] += 1
        out = func(*args, **kwargs)
        tensors = [t for t in pytree.tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor)]
        if any(t in self.live for t in tensors):
            for t in pytree.tree_leaves(out):
                if isinstance(t, torch.Tensor):
                    self.live[t] = True
            for t in pytree.tree_leaves((args, kwargs)):  # in-place ops and out= arguments
                if isinstance(t, torch.Tensor) and func._schema.is_mutable:
                    self.live[t] = True
        else:
            formula = FORMULAS.get(packet) or flop_registry.get(packet)
            if formula is not None:
                if packet in FORMULAS:
                    formula = shape_wrapper(formula)
                macs = formula(*args, **kwargs, out_val=out) // 2
                self.constant_macs += macs
                self.constant_by_op[str(packet)] += macs
        return out


def _mha_parts(mod: nn.MultiheadAttention, args: tuple, kwargs: dict) -> tuple[int, int]:
    from tests.torch_nets.truth import _mha_parts as parts

    return parts(mod, args, kwargs)


def count(model: nn.Module, inputs: tuple[torch.Tensor, ...]) -> dict[str, Any]:
    """dict(macs, params, macs_by_op, hand_added_macs, constant_macs, shared, notes) of one forward pass."""
    torch.set_num_threads(1)
    model.eval()
    calls: list[tuple[str, int, int]] = []
    names = {mod: name for name, mod in model.named_modules()}
    hooks = []
    for mod in model.modules():
        if isinstance(mod, nn.MultiheadAttention):

            def hook(m, args, kwargs, _calls=calls):
                _calls.append((names[m], *_mha_parts(m, args, kwargs)))

            hooks.append(mod.register_forward_pre_hook(hook, with_kwargs=True))
    log = _OpLog(inputs)
    try:
        fc = FlopCounterMode(display=False, custom_mapping=FORMULAS)
        with torch.no_grad(), fc, log:
            model(*inputs)
    finally:
        for h in hooks:
            h.remove()
    per_module = fc.get_flop_counts()
    root = type(model).__name__
    hand = 0
    for name, proj, attn in calls:
        counted = sum(per_module.get(f"{root}.{name}", {}).values()) // 2
        hand += {0: proj + attn, proj: attn, proj + attn: 0}[counted]
    seen = set(log.ops)
    missing = sorted(seen & UNCOUNTED - ({"aten._native_multi_head_attention"} if calls else set()))
    if missing:
        raise RuntimeError(f"{root}: ops with no FLOP formula: {missing}")
    by_op = {str(op): n // 2 for op, n in per_module.get("Global", {}).items()}
    notes = []
    if hand:
        notes.append(f"{len(calls)} nn.MultiheadAttention call(s) hand-counted ({hand} MACs)")
    for op in ("aten._scaled_dot_product_flash_attention_for_cpu", "aten.mkldnn_rnn_layer"):
        if op in by_op:
            notes.append(f"{op} counted by a registered formula ({by_op[op]} MACs)")
    groups: dict[int, list[str]] = {}
    for pname, p in model.named_parameters(remove_duplicate=False):
        groups.setdefault(id(p), []).append(pname)
    shared = [names_ for names_ in groups.values() if len(names_) > 1]
    if shared:
        notes.append(f"{len(shared)} parameter(s) shared by several modules, counted once")
    return {
        "macs": fc.get_total_flops() // 2 + hand,
        "params": sum(p.numel() for p in model.parameters()),
        "macs_by_op": dict(sorted(by_op.items())),
        "hand_added_macs": hand,
        "constant_macs": log.constant_macs,
        "constant_macs_by_op": dict(sorted(log.constant_by_op.items())),
        "shared": shared,
        "notes": "; ".join(notes),
    }


# --- models --------------------------------------------------------------------------------------


class Outputs(nn.Module):
    """A transformers model as a module returning a tuple of the named output tensors."""

    def __init__(self, model: nn.Module, fields: tuple[str, ...], **call: Any) -> None:
        super().__init__()
        self.model = model
        self.fields = fields
        self.call = call

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.model(*inputs, **self.call)
        return tuple(getattr(out, f) for f in self.fields)


def _ids(length: int, vocab: int, batch: int = 1) -> torch.Tensor:
    return torch.randint(0, vocab, (batch, length), generator=torch.Generator().manual_seed(0))


def _all_tokens(length: int) -> torch.Tensor:
    """An attention mask of ones. Without one, transformers looks for packed sequences in the position
    ids with ``torch.diff``, which the TorchScript exporter cannot export."""
    return torch.ones(1, length, dtype=torch.int64)


def _image(size: int, channels: int = 3) -> tuple[torch.Tensor]:
    return (torch.zeros(1, channels, size, size),)


def _timm(name: str, size: int, **kwargs: Any) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    import timm

    model = timm.create_model(name, pretrained=False, num_classes=10, **kwargs)
    return model, _image(size)


def bert():
    from transformers import BertConfig, BertModel

    cfg = BertConfig(
        vocab_size=1000,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        max_position_embeddings=64,
        type_vocab_size=2,
    )
    return Outputs(BertModel(cfg), ("last_hidden_state", "pooler_output")), (_ids(16, 1000),)


def albert():
    from transformers import AlbertConfig, AlbertModel

    cfg = AlbertConfig(
        vocab_size=1000,
        embedding_size=32,
        hidden_size=64,
        num_hidden_layers=3,
        num_attention_heads=4,
        intermediate_size=128,
        max_position_embeddings=64,
    )
    return Outputs(AlbertModel(cfg), ("last_hidden_state", "pooler_output")), (_ids(16, 1000),)


def gpt2():
    from transformers import GPT2Config, GPT2LMHeadModel

    cfg = GPT2Config(vocab_size=1000, n_positions=64, n_embd=64, n_layer=2, n_head=4)
    model = Outputs(GPT2LMHeadModel(cfg), ("logits",), use_cache=False, attention_mask=_all_tokens(16))
    return model, (_ids(16, 1000),)


def llama():
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(
        vocab_size=1000,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
        tie_word_embeddings=False,
    )
    model = Outputs(LlamaForCausalLM(cfg), ("logits",), use_cache=False, attention_mask=_all_tokens(16))
    return model, (_ids(16, 1000),)


def wav2vec2():
    from transformers import Wav2Vec2Config, Wav2Vec2Model

    cfg = Wav2Vec2Config(
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        conv_dim=(32, 32, 32),
        conv_stride=(5, 2, 2),
        conv_kernel=(10, 3, 3),
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=4,
        feat_extract_norm="group",
    )
    model = Outputs(Wav2Vec2Model(cfg), ("last_hidden_state", "extract_features"))
    return model, (torch.zeros(1, 1600),)


def whisper_encoder():
    from transformers import WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    cfg = WhisperConfig(
        d_model=64,
        encoder_layers=2,
        encoder_attention_heads=4,
        encoder_ffn_dim=128,
        num_mel_bins=16,
        max_source_positions=32,
        decoder_layers=1,
        decoder_attention_heads=4,
        decoder_ffn_dim=128,
        vocab_size=1000,
        max_target_positions=32,
    )
    return Outputs(WhisperEncoder(cfg), ("last_hidden_state",)), (torch.zeros(1, 16, 64),)


def videomae():
    from transformers import VideoMAEConfig, VideoMAEModel

    cfg = VideoMAEConfig(
        image_size=32,
        patch_size=8,
        num_channels=3,
        num_frames=4,
        tubelet_size=2,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
    )
    return Outputs(VideoMAEModel(cfg), ("last_hidden_state",)), (torch.zeros(1, 4, 3, 32, 32),)


def cvt():
    from transformers import CvtConfig, CvtForImageClassification

    # depth[i] > i: transformers indexes stage i's drop-path list by the stage number
    cfg = CvtConfig(embed_dim=[16, 32, 64], num_heads=[1, 2, 4], depth=[1, 2, 3], num_labels=10)
    return Outputs(CvtForImageClassification(cfg), ("logits",)), _image(64)


def dinov2():
    from transformers import Dinov2Config, Dinov2Model

    cfg = Dinov2Config(
        image_size=56,
        patch_size=14,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        mlp_ratio=2,
    )
    # run at 70×70 (5×5 patches) against a 4×4 position table: the table is interpolated, as DINOv2
    # is used at other resolutions than it was trained at
    return Outputs(Dinov2Model(cfg), ("last_hidden_state", "pooler_output")), _image(70)


def swinv2():
    return _timm(
        "swinv2_tiny_window8_256",
        64,
        img_size=64,
        window_size=4,
        embed_dim=32,
        depths=(1, 1, 2, 1),
        num_heads=(1, 2, 4, 8),
    )


def mobilevit():
    return _timm("mobilevit_xxs", 64)


def edgenext():
    return _timm("edgenext_xx_small", 64)


def coatnet():
    return _timm("coatnet_pico_rw_224", 64, img_size=64)


def maxvit():
    return _timm("maxvit_rmlp_nano_rw_256", 64, img_size=64)


def sequencer():
    return _timm(
        "sequencer2d_s",
        64,
        layers=(1, 1, 1, 1),
        embed_dims=(32, 64, 64, 64),
        hidden_sizes=(8, 16, 16, 16),
    )


def regnet():
    return _timm("regnetx_002", 64)


def efficientnetv2():
    return _timm("efficientnetv2_rw_t", 64)


def convnextv2():
    return _timm("convnextv2_atto", 64)


def deit():
    return _timm("deit_tiny_distilled_patch16_224", 64, img_size=64, depth=2)


def resnest():
    return _timm("resnest14d", 64)


def dinov2_vit():
    # timm's DINOv2-style ViT: patch 14, layer scale, 4 register tokens
    return _timm("vit_small_patch14_reg4_dinov2", 56, img_size=56, depth=2, embed_dim=64, num_heads=2)


class RecurrentClassifier(nn.Module):
    """Token embedding → 2-layer bidirectional LSTM → GRU → tanh RNN → linear head on every step."""

    def __init__(self, vocab: int = 500, dim: int = 24, hidden: int = 32, classes: int = 5) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, hidden, num_layers=2, bidirectional=True, batch_first=True)
        self.gru = nn.GRU(2 * hidden, hidden, batch_first=True)
        self.rnn = nn.RNN(hidden, hidden)
        self.head = nn.Linear(hidden, classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x, _ = self.lstm(self.embed(ids))
        x, _ = self.gru(x)
        x, _ = self.rnn(x.transpose(0, 1))
        return self.head(x.transpose(0, 1))


def recurrent():
    return RecurrentClassifier(), (_ids(12, 500),)


class Video3d(nn.Module):
    """A small 3-D conv net: a (2+1)-D factorised block, a grouped 3-D conv, 3-D pooling, a head."""

    def __init__(self, classes: int = 7) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv3d(3, 16, (3, 7, 7), (1, 2, 2), (1, 3, 3), bias=False), nn.BatchNorm3d(16), nn.ReLU()
        )
        self.pool = nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1))
        self.spatial = nn.Conv3d(16, 24, (1, 3, 3), padding=(0, 1, 1))
        self.temporal = nn.Conv3d(24, 24, (3, 1, 1), stride=(2, 1, 1), padding=(1, 0, 0))
        self.grouped = nn.Conv3d(24, 32, 3, stride=2, padding=1, groups=4)
        self.head = nn.Linear(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.stem(x))
        x = torch.relu(self.temporal(torch.relu(self.spatial(x))))
        x = self.grouped(x).mean(dim=(2, 3, 4))
        return self.head(x)


def video3d():
    return Video3d(), (torch.zeros(1, 3, 8, 32, 32),)


class EinsumMixer(nn.Module):
    """Token mixing written as einsums: a two-operand attention and a three-operand bilinear map."""

    def __init__(self, dim: int = 32, tokens: int = 10) -> None:
        super().__init__()
        self.embed = nn.Linear(12, dim)
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.bilinear = nn.Parameter(torch.zeros(dim, dim))
        self.head = nn.Linear(tokens, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.embed(x)
        attn = torch.einsum("bnd,bmd->bnm", self.q(x), self.k(x)).softmax(-1)
        x = torch.einsum("bnm,bmd->bnd", attn, x)
        scores = torch.einsum("bnd,de,bme->bnm", x, self.bilinear, x)
        return self.head(scores)


def einsum_mixer():
    return EinsumMixer(), (torch.zeros(1, 10, 12),)


CORPUS: dict[str, Callable[[], tuple[nn.Module, tuple[torch.Tensor, ...]]]] = {
    "bert": bert,
    "albert": albert,
    "gpt2": gpt2,
    "llama": llama,
    "wav2vec2": wav2vec2,
    "whisper_encoder": whisper_encoder,
    "videomae": videomae,
    "video3d": video3d,
    "cvt": cvt,
    "dinov2": dinov2,
    "swinv2": swinv2,
    "mobilevit": mobilevit,
    "edgenext": edgenext,
    "coatnet": coatnet,
    "maxvit": maxvit,
    "sequencer": sequencer,
    "recurrent": recurrent,
    "regnet": regnet,
    "efficientnetv2": efficientnetv2,
    "convnextv2": convnextv2,
    "deit": deit,
    "resnest": resnest,
    "dinov2_vit": dinov2_vit,
    "einsum_mixer": einsum_mixer,
}
