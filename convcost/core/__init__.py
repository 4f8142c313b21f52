"""The pure core: conv arithmetic, its forms, traffic, the user's options and device profiles.

Nothing here imports click, rich or yaml, nor anything above it in the package.
"""
