"""Credits: pricing, holds around a render, the ledger activities, the sweeper, grants."""
