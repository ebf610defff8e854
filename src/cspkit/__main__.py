from cspkit.cli import app

app()
