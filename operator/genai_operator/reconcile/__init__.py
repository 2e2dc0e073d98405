"""Deciding what to change, without doing it (pure): desired vs observed children -> actions.

`diff.py` (creates, replaces, deletes), `frozen_fields.py` (what the API server no longer lets change),
`rollout.py` (how a changed pod template rolls out), `expectations.py` (children created but not yet seen),
`children.py` (what an observed child says: who controls it, whether its rollout is done).
"""
