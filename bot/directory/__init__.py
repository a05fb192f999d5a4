"""Directory sync: people from the WeCom and DingTalk directories, matched into one person each,
their departments mapped to workshops and their tags or roles to LineRelay roles."""
