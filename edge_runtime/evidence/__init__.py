"""Evidence for verified fusion: run model-written code safely and check it against the prompt's own examples."""
