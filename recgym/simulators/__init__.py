"""Pure-NumPy simulators, batched over users. No gymnasium here."""
