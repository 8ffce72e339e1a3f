"""Video analysis for the encoder: per-frame features and keyframe selection."""
