"""S3 sessions from stack outputs, and the transfers that use them."""
