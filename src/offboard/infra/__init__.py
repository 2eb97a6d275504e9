"""Per-customer transfer infrastructure: one definition, applied by Pulumi or locally."""
