"""Lucene's own algorithms, written once for the product and the sandbox (a leaf: it imports
nothing of watchmgr, so both sides of the architecture may use it)."""
