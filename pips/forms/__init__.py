"""Forms, one module per area: they parse and normalise what people type and leave the rules a
plan must meet to the services, whose errors they show beside the right field."""
