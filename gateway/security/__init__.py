"""Security pieces shared by the venue's endpoints: per-connection guards for ZeroMQ sockets."""
