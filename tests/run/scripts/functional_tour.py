"""Tensor methods and torch.nn.functional calls common in model code, folded into one checksum."""

import numpy as np
import torch
import torch.nn.functional as F

from _common import report


def main():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(4, 3, 6)).astype(np.float32))
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    x = x.to(device)
    parts = []

    # shapes and views
    y = x.view(4, 18).reshape(2, 2, 18).permute(2, 0, 1).contiguous().transpose(0, 1)
    parts.append(y.flatten(1).sum(dim=-1))
    a, b = x.chunk(2, dim=-1)
    parts.append(torch.cat([a, b], dim=1).mean(dim=(0, 1)))
    parts.append(torch.stack([a, b]).unsqueeze(0).squeeze(0).sum(0).std())
    parts.append(x.split([2, 4], dim=2)[1].expand(2, 4, 3, 4).repeat(1, 1, 1, 2).sum())
    # masks, selection, reductions
    mask = x > 0
    parts.append(x.masked_fill(~mask, 0.0).sum(dim=1).max(dim=-1).values)
    parts.append(torch.where(mask, x, torch.zeros_like(x)).clamp(max=1.0).sum())
    values, indices = x.flatten().topk(3)
    parts.append(values + indices.float())
    parts.append(x.sort(dim=-1, descending=True).values[..., 0])
    parts.append(x.cumsum(dim=-1).abs().amax(dim=(1, 2)))
    idx = torch.tensor([[0, 2], [1, 0], [2, 1], [0, 0]])
    parts.append(x[:, :, 0].gather(1, idx).sum(1))
    parts.append(x.index_select(1, torch.tensor([2, 0])).norm())
    parts.append(torch.zeros(4, 5).scatter_(1, idx, 1.0).sum(0))
    parts.append(x.argmax(dim=-1).float().mean() + x.argmin().float())
    # functional
    logits = x.sum(dim=1)
    labels = torch.tensor([0, 5, 2, 3])
    parts.append(F.softmax(logits, dim=-1).max(dim=1).values)
    parts.append(F.log_softmax(logits, dim=1).exp().sum(dim=1))
    parts.append(F.cross_entropy(logits, labels, label_smoothing=0.1).reshape(1))
    parts.append(F.nll_loss(F.log_softmax(logits, 1), labels).reshape(1))
    parts.append(F.one_hot(labels, num_classes=6).float().sum(0))
    parts.append(F.gelu(x).sum() + F.silu(x).sum() + F.leaky_relu(x, 0.1).sum() + F.elu(x).sum())
    parts.append(F.layer_norm(x, (6,)).pow(2).mean().reshape(1))
    parts.append(F.normalize(logits, dim=1).sum(0))
    parts.append(F.cosine_similarity(logits[:2], logits[2:], dim=1))
    parts.append(F.dropout(x, p=0.5, training=False).sum().reshape(1))
    parts.append(F.pad(x, (1, 1)).sum(dim=-1).mean(0))
    parts.append(F.avg_pool1d(x, 2).sum(dim=(0, 1)))
    parts.append(F.conv1d(x, torch.ones(2, 3, 3) / 9, padding=1).mean(dim=(0, 2)))
    parts.append(F.embedding(torch.tensor([1, 3]), x.reshape(12, 6)).sum(1))
    parts.append(F.binary_cross_entropy_with_logits(logits, (logits > 0).float()).reshape(1))
    parts.append(F.interpolate(x, scale_factor=2, mode="nearest").sum(dim=(0, 1)))
    # dtypes and Python values
    parts.append(x.double().float().half().float().type_as(x).new_zeros(2) + x.numel())
    parts.append(torch.tensor(x.tolist()).sub(x).abs().sum().reshape(1))
    parts.append(torch.as_tensor(x.cpu().numpy()).sum().reshape(1))
    checksum = sum(p.sum().item() for p in parts)
    assert torch.allclose(x.sum(), x.sum(dim=(0, 1, 2)))
    report("checksum", checksum)
    report("count", len(parts))


if __name__ == "__main__":
    main()
