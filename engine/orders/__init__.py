"""Order intents, their idempotency keys, and the manager that sends, tracks and cancels them."""
