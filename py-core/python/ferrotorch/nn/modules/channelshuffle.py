"""``ChannelShuffle``."""

__all__ = []
