"""Probes collect raw statistics from PyTorch into plain numbers. No judgement here."""
