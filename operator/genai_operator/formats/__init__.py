"""Values as Kubernetes writes them (pure): resource quantities, DNS-label names, RFC 3339 timestamps."""
