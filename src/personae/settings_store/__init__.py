"""Settings resolved by scope (system < tenant < user / persona), feature flags, model configs."""
