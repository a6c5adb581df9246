"""Renders: the video and image workflows, planning a timeline into segments, brand kits."""
