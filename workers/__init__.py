"""A small client for itsmflow's external tasks: workers that do the service tasks of a process over REST."""

from workers.client import ApiError, BpmnError, ExternalTask, ExternalTaskClient, Worker

__all__ = ["ApiError", "BpmnError", "ExternalTask", "ExternalTaskClient", "Worker"]
