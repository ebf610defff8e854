"""report stage of cspkit."""
