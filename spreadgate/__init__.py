"""What the spreadgate components share: the wire contract, the database model, settings, and the command line."""
