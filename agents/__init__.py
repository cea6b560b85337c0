"""Policies and learning agents for recgym environments; they speak only gymnasium spaces and NumPy."""
