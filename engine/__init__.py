"""itsmflow's runtime: BPMN/DMN execution, persistence and services. Never imports Flask."""
