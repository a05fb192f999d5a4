"""Chat platforms: the contract each one fulfils and the registry that lists them."""
