"""Genie space lifecycle tools: test conversations, and what other engineers add beside them."""
