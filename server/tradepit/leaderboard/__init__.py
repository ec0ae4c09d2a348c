"""The leaderboard: equity samples per account, the figures drawn from them, the ranking."""
