"""The phone line: what callers and technicians hear, as provider webhooks."""
