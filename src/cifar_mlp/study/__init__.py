"""The study: each section's declared experiments, the statistics that judge them, the claims."""
