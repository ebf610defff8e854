"""topics stage of cspkit."""
