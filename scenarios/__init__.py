"""The shipped scenarios, installed as the package ``mockscim.shipped_scenarios`` (see mockscim/util/shipped.py)."""
