"""Activation checkpointing (``torch.utils.checkpoint``)."""
