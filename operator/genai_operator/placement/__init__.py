"""Placement (pure): pools from nodes and PlacementPools, and how replicas split across them with spillover."""
