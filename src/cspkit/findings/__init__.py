"""findings stage of cspkit."""
