"""Strategy API and runtime: a strategy class with callbacks, a context to trade through, and the
same code live (trading/strategy/live.py) and in replay (trading/replay/).

    from trading.strategy import Strategy, BUY, SELL

    class Mine(Strategy):
        name = "mine"
        defaults = {"size": 100}
        def on_start(self, ctx): ctx.set_timer(100_000_000)
        def on_timer(self, ctx): ...ctx.buy(ctx.book.best_bid, self.params["size"])...
"""
from trading.strategy.api import BUY, SELL, Fill, OwnOrder, ParamError, PublicTrade, Strategy
from trading.strategy.context import BookView, Context, Limits
from trading.strategy.ledger import FeeSchedule, Ledger

__all__ = ["BUY", "SELL", "BookView", "Context", "FeeSchedule", "Fill", "Ledger", "Limits", "OwnOrder",
           "ParamError", "PublicTrade", "Strategy"]
