"""Helm charts: offline rendering, and mapping rendered fields back to templates and values."""
