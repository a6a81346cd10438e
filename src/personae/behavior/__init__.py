"""Rules, versioned scenarios and migrations, response templates, variables, tool activations."""
