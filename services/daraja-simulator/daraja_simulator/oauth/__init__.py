"""OAuth: `GET /oauth/v1/generate` and the bearer check every business API makes."""
