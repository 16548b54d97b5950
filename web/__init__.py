"""The web app: pages for people, over the same answers the API gives."""
