"""Readers, archive and normalisation for handed-in files."""
