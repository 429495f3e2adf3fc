"""Execution algorithms (issue 22): parent orders executed as TWAP, VWAP, POV or implementation
shortfall (Almgren-Chriss), with the impact model they use and the rule that places each child.

almgren_chriss.py   the closed-form optimal trajectory, its cost and variance, the frontier
impact.py           square-root impact law estimated from a day, calibrated into AC parameters
profile.py          intraday volume profile (VWAP)
schedules.py        how much should be done by now, per algorithm
placement.py        passive / mid / aggressive placement rule of a child order
parent.py           the parent order and its validation
parent_ids.py       how a child order names its parent (client_order_id's high 32 bits, read by TCA)
strategy.py         a parent order as a strategy: the same code live and in replay
routed.py           slices through the smart order router when several venues exist
desk.py, control.py parent orders run by the control plane: journal, processes, control files
frontier.py, cli.py the paper's example and frontier PNG; ``python -m trading execution``
"""
