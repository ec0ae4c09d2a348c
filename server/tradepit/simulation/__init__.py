"""The living market: a fair value per instrument and built-in market makers that quote
around it, through the same gateway and escrow as any client."""
