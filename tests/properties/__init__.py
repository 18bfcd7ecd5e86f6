"""Property-based tests: the simulator renders, the client parses, the scenario is the truth."""
