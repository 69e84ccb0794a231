"""Guard for SpiffWorkflow's loop-stall defect.

Its task iterators stop at depth 1000 by default. A gateway back-edge loop past that depth (about 333
rounds of a 3-node loop) leaves a READY task nobody finds and `is_completed()` returns True early. Every
iterator in the library takes its default from these constructors, so we lift the default once.
"""

from __future__ import annotations

import sys
from typing import Any

from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.util.task import TaskIterator

UNBOUNDED = sys.maxsize


def _lift(cls: Any) -> None:  # a SpiffWorkflow iterator class (untyped): its __init__ defaults are rewritten
    init = cls.__init__
    names = init.__code__.co_varnames[1 : init.__code__.co_argcount]
    defaults = list(init.__defaults__ or ())
    offset = len(names) - len(defaults)
    index = names.index("max_depth") - offset
    defaults[index] = UNBOUNDED
    init.__defaults__ = tuple(defaults)


def lift_depth_limit() -> None:
    _lift(TaskIterator)
    _lift(BpmnTaskIterator)
