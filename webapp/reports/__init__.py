"""Seeing and taking away: the palette, volume aggregates, the map and exports."""
