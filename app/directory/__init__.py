"""The desk's customers: companies, their contacts and contracts, and the phone numbers that find them."""
