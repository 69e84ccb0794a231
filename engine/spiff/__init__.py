"""The only package that imports SpiffWorkflow: parser flavour, specs, sandbox, serializer, runtime helpers."""
