"""Rebuilds uploaded documents from Spread streams, converts them to text and multicasts the results."""
