"""The bill per job and the inventory's own AWS charges."""
