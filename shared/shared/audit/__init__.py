"""The tamper-evident audit trail both services keep (one append-only table each).

How it holds together:

- ``record`` inserts an *unchained* row in the caller's transaction: no lock, so auditing never
  serialises requests, and a rolled-back request leaves no entry.
- One chainer at a time (``chain``, under a transaction-scoped advisory lock) gives committed
  unchained rows, in id order, the next ``seq``, the previous row's hash and their own:
  ``SHA-256(canonical JSON of the row and the previous hash)``. Rows are chained in the order
  the chainer finds them committed, so concurrent requests can never fork the chain.
- The database refuses UPDATE and DELETE (a trigger); the only update it lets through is the
  chainer's first link of a row, and the only delete is the archiver's (``archive``).
- Every few minutes the head is signed with Ed25519 (``checkpoint``) and the signed checkpoint is
  stored in the database *and* written outside it (the log stream and an append-only file), so
  someone who can rewrite the database cannot rewrite history unseen.
- ``verify`` recomputes every hash and checks every checkpoint, naming the first broken row; a
  truncated tail shows against the last signed checkpoint.
- Rows older than the retention are archived to a file whose hash is itself audited.
"""
