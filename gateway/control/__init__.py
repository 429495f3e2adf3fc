"""Control plane of the venue (issue 8): configuration, the control-plane service, its ZeroMQ API,
post-trade risk analytics and the operators' shell.

The wire contract (commands, roles, reply codes) is gateway/control/protocol.py; everything else imports it.
"""
