"""The web app: its public configuration and the built single-page app served at `/`."""
