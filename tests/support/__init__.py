"""Helpers shared by the test tiers: repository paths, the operator harness on the emulator, clients, node and
chart fixtures, render fixtures, CRD admission checks and the loader's local servers."""
