"""Grid positions of the diagrams laid out by tools/bpmn_layout.py: node -> (column, row)."""

from __future__ import annotations

from bpmn_layout import Layout, above, below, cx, gap_below, into_bottom, via_row

TRIAGE = Layout(
    lanes={"lane_service_desk": 2, "lane_change_manager": 1},
    nodes={
        "start": (0, 0), "register": (1, 0), "kind_gateway": (2, 0),
        "to_response_merge": (6, 0), "set_query_type": (7, 0), "end_response": (8, 0),
        "assess_rfc": (3, 1), "classify_change": (4, 1), "class_gateway": (5, 1), "end_change": (8, 1),
        "project_handoff": (6, 2), "end_project": (8, 2),
    },
    routes={"flow_class_standard": lambda s, t: [s.top(), (s.cx, 180), (t.cx, 180), t.bottom()]},
)

RESPONSE = Layout(
    lanes={"lane_requester": 1, "lane_service_desk": 4, "lane_resolver": 3, "lane_problem_team": 1},
    row_h=140,
    nodes={
        # requester (row 0)
        "confirm": (13, 0), "confirmed_gateway": (14, 0),
        # service desk (rows 1-4)
        "start": (0, 2), "record": (1, 2), "prioritise": (2, 2), "set_sla": (3, 2), "reopen_merge": (4, 2),
        "type_gateway": (5, 2),
        "provide_information": (6, 1), "validate_entitlement": (6, 2), "restore_first_line": (6, 3),
        "escalate_response": (6, 4), "end_escalated_response": (7, 4),
        "answered_gateway": (8, 1), "entitlement_gateway": (9, 2), "first_line_gateway": (10, 3),
        "handled_merge": (12, 2), "escalate_resolution": (13, 4), "end_escalated_resolution": (14, 4),
        "incident_gateway": (15, 2), "assess_impact": (16, 2), "material_gateway": (17, 2),
        "close_merge": (27, 2), "close": (28, 2), "trend_gateway": (29, 2), "end": (30, 2),
        "end_improvement": (30, 3),
        # resolver (rows 5-7): the deepest branch leaves the service desk first, so no edge crosses a task
        "restore": (11, 5), "decide_entitlement": (10, 6), "refer_question": (9, 7),
        # problem team (row 8); the service desk keeps the user informed meanwhile (row 4)
        "analyse_root_cause": (18, 8), "raise_fix": (19, 8), "fix_fork": (20, 8), "rfc_raised_event": (21, 8),
        "wait_change": (22, 8), "fix_join": (23, 8), "note_fix": (24, 8), "review_fix": (25, 8),
        "fix_gateway": (26, 8), "inform_user": (21.5, 4),
    },
    boundaries={"respond_timer_information": 20, "respond_timer_entitlement": 20, "respond_timer_incident": 50,
                "resolve_timer": 80},
    labels_left={"resolve_timer"},
    routes={
        "flow_respond_late_information": gap_below(1, cx(5) + 42),
        "flow_respond_late_entitlement": gap_below(2, cx(5) + 58),
        "flow_resolve_late": gap_below(5),
        "flow_answered": lambda s, t: [s.right(), (t.cx, s.cy), t.top()],
        "flow_first_line_restored": into_bottom,
        "flow_referred_handled": into_bottom,
        "flow_decided_handled": into_bottom,
        "flow_restored_handled": into_bottom,
        "flow_handled_confirm": into_bottom,
        "flow_not_confirmed": above(0),
        "flow_not_incident": via_row(1),
        "flow_fix_effective": into_bottom,
        "flow_fix_not_effective": below(8),
    },
)

IMPROVEMENT = Layout(
    lanes={"lane_process_owner": 1, "lane_resolver": 1, "lane_service_desk": 1},
    nodes={
        "start": (0, 0), "identify": (1, 0), "understand": (2, 0), "set_objectives": (3, 0), "plan_improvement": (4, 0),
        "implement": (5, 1), "monitor": (6, 2), "review": (7, 0), "review_gateway": (8, 0), "close": (9, 0),
        "end": (10, 0),
    },
    routes={"flow_replan": above(0), "flow_adjust": below(1)},
)

LAYOUTS = {"triage": TRIAGE, "response": RESPONSE, "improvement": IMPROVEMENT}
