"""Variable-length sequence batches: ``PackedSequence`` and the pack / pad utilities of
``torch.nn.utils.rnn``.

A packed batch stores the time steps of B sequences sorted by decreasing length one after
another: step t holds the ``batch_sizes[t]`` sequences still running, so ``data`` has
``sum(lengths)`` rows and no padding. Packing and padding are one boolean-mask index each
(the mask of valid (step, sequence) cells, read in row-major order, is exactly the packed
order), so both are differentiable through ordinary tensor ops.
"""

from collections import namedtuple
from collections.abc import Iterable

from ... import _C
from ... import Tensor

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpad_sequence",
    "pack_sequence",
    "unpack_sequence",
]


def _bind(optional, fn):
    return None if optional is None else fn(optional)


class PackedSequence(namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """A packed batch of variable-length sequences (build it with ``pack_padded_sequence`` or
    ``pack_sequence``, never by hand).

    Fields: ``data`` (sum(lengths), *), ``batch_sizes`` (int64 CPU tensor, sequences alive at
    each step), ``sorted_indices`` (the permutation that sorted the batch by length, or None)
    and ``unsorted_indices`` (its inverse).
    """

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        elif batch_sizes.device.type != "cpu":
            raise ValueError(
                "batch_sizes should always be on CPU. Instances of PackedSequence should never be "
                "created manually. They should be instantiated by functions like pack_sequence and "
                "pack_padded_sequences in nn.utils.rnn."
            )
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """Moves or casts ``data`` as ``Tensor.to``; the index tensors follow to its device."""
        data = self.data.to(*args, **kwargs)
        if data is self.data or (data.dtype == self.data.dtype and data.device == self.data.device
                                 and data.data_ptr() == self.data.data_ptr()):
            return self  # nothing moved or cast
        move = lambda t: t.to(data.device)  # noqa: E731
        return type(self)(data, self.batch_sizes, _bind(self.sorted_indices, move), _bind(self.unsorted_indices, move))

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else device)

    def double(self):
        return self.to(dtype=_C.float64)

    def float(self):
        return self.to(dtype=_C.float32)

    def half(self):
        return self.to(dtype=_C.float16)

    def long(self):
        return self.to(dtype=_C.int64)

    def int(self):
        return self.to(dtype=_C.int32)

    def short(self):
        return self.to(dtype=_C.int16)

    def char(self):
        return self.to(dtype=_C.int8)

    def byte(self):
        return self.to(dtype=_C.uint8)

    @property
    def is_cuda(self):
        """Whether ``data`` lives on a CUDA device."""
        return self.data.is_cuda


def invert_permutation(permutation):
    """The inverse of a permutation tensor (None stays None)."""
    if permutation is None:
        return None
    output = permutation.new_empty(permutation.shape)
    return output.scatter_(0, permutation, _C.arange(permutation.numel(), device=permutation.device))


def _valid_steps(lengths, max_length):
    """(max_length, B) bool mask: True where step t < lengths[b]."""
    return _C.arange(max_length, device=lengths.device).unsqueeze(1) < lengths.unsqueeze(0)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Packs a padded batch (T, B, *) (or (B, T, *) with ``batch_first``) whose sequence b
    has ``lengths[b]`` valid steps.

    With ``enforce_sorted`` the lengths must decrease; otherwise the batch is sorted here and
    the permutation is kept in the result so that unpacking restores the original order.
    """
    if not isinstance(lengths, Tensor):
        lengths = _C.as_tensor(lengths, dtype=_C.int64)
    else:
        lengths = lengths.to(dtype=_C.int64).cpu()
    if lengths.dim() != 1:
        raise RuntimeError(
            f"'lengths' argument should be a 1D CPU int64 tensor, but got {lengths.dim()}D cpu Long tensor"
        )
    if batch_first:
        input = input.transpose(0, 1)
    if input.numel() == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    if lengths.numel() != input.shape[1]:
        raise RuntimeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {lengths.numel()} "
            f"(batch_size={input.shape[1]})"
        )
    sorted_indices = None
    if not enforce_sorted:
        lengths, sorted_indices = lengths.sort(descending=True)
        input = input.index_select(1, sorted_indices.to(input.device))
    values = lengths.tolist()
    if values[-1] <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0"
        )
    if any(a < b for a, b in zip(values, values[1:])):
        raise RuntimeError(
            "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass "
            "`enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this requirement if "
            "you do not need ONNX exportability."
        )
    if values[0] > input.shape[0]:
        raise RuntimeError(
            f"Expected the longest length to be at most the sequence length {input.shape[0]}, but got {values[0]}"
        )
    max_length = values[0]
    mask = _valid_steps(lengths, max_length)
    batch_sizes = mask.sum(1)
    data = input[:max_length][mask.to(input.device)]
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def _packed_lengths(batch_sizes):
    """Each sequence's length, from a packed batch's ``batch_sizes``."""
    batch = int(batch_sizes[0])
    return (batch_sizes.unsqueeze(1) > _C.arange(batch).unsqueeze(0)).sum(0)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Inverse of ``pack_padded_sequence``: returns the padded batch (T, B, *) (or (B, T, *))
    and the int64 lengths, both in the batch's original order. ``total_length`` pads to that
    many steps instead of the longest sequence's."""
    data, batch_sizes = sequence.data, sequence.batch_sizes
    max_length = batch_sizes.shape[0]
    if total_length is not None:
        if total_length < max_length:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in input, but got "
                f"total_length={total_length} and max sequence length being {max_length}"
            )
        max_length = total_length
    lengths = _packed_lengths(batch_sizes)
    batch = lengths.shape[0]
    shape = (max_length, batch) + tuple(data.shape[1:])
    mask = _valid_steps(lengths, max_length).to(data.device)
    mask = mask.view((max_length, batch) + (1,) * (data.dim() - 1)).expand(*shape)
    padded = data.new_full(shape, padding_value).masked_scatter(mask, data)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = lengths[sequence.unsorted_indices.cpu()]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stacks sequences of shapes (L_i, *) into one (max L, B, *) tensor (or (B, max L, *)
    with ``batch_first``), filling with ``padding_value`` on the ``padding_side``."""
    if not isinstance(sequences, Iterable):
        raise RuntimeError(
            f"pad_sequence: Expected iterable for input sequences, but got arg of type: {type(sequences)}"
        )
    sequences = tuple(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    data = _C.cat(sequences)  # also checks that the trailing dims agree
    lengths = _C.as_tensor([s.shape[0] for s in sequences], dtype=_C.int64, device=data.device)
    max_length = max(s.shape[0] for s in sequences)
    steps = _C.arange(max_length, device=data.device).unsqueeze(0)
    if padding_side == "right":
        mask = steps < lengths.unsqueeze(1)
    else:
        mask = steps >= (max_length - lengths).unsqueeze(1)
    shape = (len(sequences), max_length) + tuple(data.shape[1:])
    mask = mask.view(shape[:2] + (1,) * (data.dim() - 1)).expand(*shape)
    padded = data.new_full(shape, padding_value).masked_scatter(mask, data)
    return padded if batch_first else padded.transpose(0, 1).contiguous()


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Splits a padded batch back into the list of its sequences (each ``lengths[b]`` long).
    Unlike PyTorch's, it leaves ``padded_sequences`` untransposed."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[:length] for seq, length in zip(padded_sequences, _lengths_list(lengths))]


def _lengths_list(lengths):
    return lengths.tolist() if isinstance(lengths, Tensor) else list(lengths)


def pack_sequence(sequences, enforce_sorted=True):
    """Packs a list of sequences (L_i, *); with ``enforce_sorted`` they must come longest first."""
    lengths = _C.as_tensor([s.shape[0] for s in sequences], dtype=_C.int64)
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """Inverse of ``pack_sequence``: the list of sequences, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
