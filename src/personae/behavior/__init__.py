"""Rules, versioned scenarios and their migrations, response templates, variables, tool activations."""
