"""What talks to the API server: the HTTP session (`session.py`), typed requests (`client.py`), list-and-watch
(`watch.py`), applying reconcile actions (`actions.py`) and the leader Lease (`leader_election.py`)."""
