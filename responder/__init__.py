"""responder"""
