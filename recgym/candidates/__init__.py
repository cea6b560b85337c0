"""Retrieval: incremental item-item cosine CF and business re-scoring."""

from recgym.candidates.business import business_scores
from recgym.candidates.generator import CandidateConfig, CandidateGenerator, Slates
from recgym.candidates.item_cf import ItemItemCosineCF, brute_force_scores
from recgym.candidates.ranking import top_k

__all__ = [
    "CandidateConfig",
    "CandidateGenerator",
    "ItemItemCosineCF",
    "Slates",
    "brute_force_scores",
    "business_scores",
    "top_k",
]
