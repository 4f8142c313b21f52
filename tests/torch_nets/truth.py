"""Ground-truth MACs/params from torch's FlopCounterMode, with its attention blind spots patched.

``count(model, shape)`` runs one forward pass in eval mode under ``torch.no_grad()``:

* ``macs`` = FlopCounterMode total FLOPs // 2 (+ hand-added attention MACs, see below).
  FlopCounterMode counts conv, mm/addmm/bmm/baddbmm (matmul, Linear) and SDPA kernels that have a
  formula; 2 FLOPs per multiply-accumulate, bias adds *not* counted. Pooling, normalisation,
  activations, softmax, elementwise ops and interpolation are not counted.
* ``params`` = sum(p.numel() for p in model.parameters()) (buffers such as BN running stats excluded).

Blind spots (verified on torch 2.13 CPU; see ``vit_block`` vs ``vit_block_mha`` in structures.py):

* ``nn.MultiheadAttention`` in eval mode under no_grad takes the fused fast path
  (``aten._native_multi_head_attention``), which FlopCounterMode does not count *at all*: neither
  the in-projection, the attention matmuls nor the out-projection.
* With grad enabled (slow path) the projections are counted (addmm) but the CPU flash SDPA kernel
  (``aten._scaled_dot_product_flash_attention_for_cpu``) has no formula, so QK^T and AV are missed.

So for every ``nn.MultiheadAttention`` call we measure what FlopCounterMode attributed to that module
and hand-add the rest of the standard count, which for query (B, L, E), key/value (B, S, E),
h heads, d = E/h is:
    in-projection  q: B*L*E*E,  k: B*S*E*E,  v: B*S*E*E
    attention      QK^T: B*h*L*S*d,  AV: B*h*L*S*d      (= 2 matmuls x batch*heads*L^2*d_head)
    out-projection B*L*E*E
If the module counted nothing, all of it is added; if it counted exactly the projections, only the
two attention matmuls are added; anything else raises (unknown torch behaviour).
Direct calls of F.scaled_dot_product_attention are not used by these models (no hook for them).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def _mha_parts(mod: nn.MultiheadAttention, args: tuple, kwargs: dict) -> tuple[int, int]:
    """(projection MACs, attention-matmul MACs) of one MHA call."""
    q, k = args[0], args[1] if len(args) > 1 else kwargs["key"]
    if not mod.batch_first and q.dim() == 3:
        q, k = q.transpose(0, 1), k.transpose(0, 1)
    if q.dim() == 2:  # unbatched
        q, k = q.unsqueeze(0), k.unsqueeze(0)
    b, n_q, e = q.shape
    s = k.shape[1]
    h = mod.num_heads
    d = e // h
    kdim, vdim = mod.kdim, mod.vdim
    proj = b * n_q * e * e + b * s * kdim * e + b * s * vdim * e + b * n_q * e * e
    attn = 2 * b * h * n_q * s * d
    return proj, attn


def count(model: nn.Module, shape: tuple[int, ...]) -> dict[str, Any]:
    """Return dict(macs, params, hand_added_macs, counted_macs, notes)."""
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
    try:
        fc = FlopCounterMode(display=False)
        with torch.no_grad(), fc:
            model(torch.zeros(shape))
    finally:
        for h in hooks:
            h.remove()
    counted_flops = fc.get_total_flops()
    per_module = fc.get_flop_counts()
    root = type(model).__name__
    hand = 0
    notes = []
    seen: dict[str, int] = {}
    for name, proj, attn in calls:
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            raise RuntimeError(f"MHA module {name} called twice; per-module counts ambiguous")
        counted = sum(per_module.get(f"{root}.{name}", {}).values()) // 2
        if counted == 0:
            hand += proj + attn
            kind = "projections+attention"
        elif counted == proj:
            hand += attn
            kind = "attention"
        else:
            raise RuntimeError(f"unexpected FlopCounterMode count {counted} inside MHA {name}")
        notes.append(kind)
    if calls:
        kinds = sorted(set(notes))
        notes_text = (
            f"{len(calls)} nn.MultiheadAttention call(s) uncounted by FlopCounterMode (fast path); "
            f"hand-added {'/'.join(kinds)} MACs"
        )
    else:
        notes_text = ""
    return {
        "macs": counted_flops // 2 + hand,
        "params": sum(p.numel() for p in model.parameters()),
        "hand_added_macs": hand,
        "counted_macs": counted_flops // 2,
        "notes": notes_text,
    }
