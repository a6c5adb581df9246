"""The cluster-wide cap: one semaphore workflow per pool, and the permits workflows hold."""
