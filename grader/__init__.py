"""The grader: judges NumPy CNN exercises against PyTorch references."""
