"""Smart order routing across several venues (issue 21): ``Router.route_order(order, strategy)``
returns a RoutingPlan, ``Router.execute_routing_plan(plan)`` runs it through the router's
Marketplace: the multi-venue replay (trading/routing/replay_market.py) or live venues, one
gateway.client session each plus the consolidator's feed (trading/routing/live_market.py)."""
from trading.routing.errors import RoutingError
from trading.routing.execution import ChildEvent, Marketplace
from trading.routing.impact import SquareRootImpact
from trading.routing.market import Level, MarketSnapshot, VenueBook
from trading.routing.plan import ChildOrder, ExecutionReport, ParentOrder, RoutingPlan, plan_from_json
from trading.routing.router import Router
from trading.routing.strategies import STRATEGIES
from trading.routing.venue import venue

__all__ = ["ChildEvent", "ChildOrder", "ExecutionReport", "Level", "MarketSnapshot", "Marketplace", "ParentOrder",
           "Router", "RoutingError", "RoutingPlan", "STRATEGIES", "SquareRootImpact", "VenueBook", "venue",
           "plan_from_json"]
