"""Control and inspection under `/simulator/`, and the virtual phone page at `/`."""
