"""What the host reads from a BPMN file itself (lxml only): lanes, roles, forms, properties, messages, timers."""
