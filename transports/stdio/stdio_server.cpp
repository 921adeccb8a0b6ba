// Placeholder until the stdio transport lands.
