"""warehouse stage of cspkit."""
