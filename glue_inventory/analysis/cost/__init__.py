"""Prices, the DPU estimate, the bill (CUR lines and reconciliation), right-sizing and what savings rest on."""
