"""The callback engine: what happens to a caller after the IVR has put them in the queue."""
