"""Customer messages: templates, the outbox written with the sale, and delivery through
providers."""
