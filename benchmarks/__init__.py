"""Speed and accuracy benchmarks that print reports (never timed asserts in tests)."""
