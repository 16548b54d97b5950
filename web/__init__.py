"""The web app: server-rendered pages for people, signed in with an account, beside the API."""
