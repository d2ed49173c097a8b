"""Reporters: read findings (and signals) and render them; they never touch hooks or autograd."""
