"""Storage adapters: the orjson transcoder, the hash chain sealed with every event on both backends, group commit, and reaching the store."""
