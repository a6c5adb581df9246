"""Publishing: the publish workflow, Postiz, Payload write-back, review links, revisions."""
