"""The responder: records conversion results from ``uploadresponses`` in the database."""
