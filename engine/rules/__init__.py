"""Our own DMN 1.1-1.3 decision-table engine: FEEL unary tests, all hit policies, evidence of every result.

Typical use::

    model = parse_dmn(xml_bytes)              # raises DmnParseError listing every problem
    result = model.evaluate("priority", {"impact": "high", "urgency": "low"}, version=2)
    result.outputs, result.matched, result.explain(), result.to_dict()
"""

from .errors import DmnParseError, EvaluationError, Problem, RulesError
from .evidence import Evaluation
from .model import Decision, DmnModel, Input, Output, Rule
from .parse import MAX_BYTES, parse_dmn
from .tabletests import load_table_tests, run_table_tests

__all__ = [
    "MAX_BYTES",
    "Decision",
    "DmnModel",
    "DmnParseError",
    "Evaluation",
    "EvaluationError",
    "Input",
    "Output",
    "Problem",
    "Rule",
    "RulesError",
    "load_table_tests",
    "parse_dmn",
    "run_table_tests",
]
