"""``ferrotorch.nn.utils``: gradient clipping, parameter/vector conversion, reparametrizations
(weight and spectral norm), module fusion, and ``rnn`` sequence packing."""
