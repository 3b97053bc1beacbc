"""``normalize``, ``cosine_similarity``, ``pairwise_distance``, ``pdist``."""

__all__ = []
