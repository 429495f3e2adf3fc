"""What a multi-venue ``up --config`` tells each venue it starts, through its environment: the
deployment's file (absolute path), so that the venue's control plane can run parent orders across
all the deployment's venues (trading/execution/desk.py's routed parents)."""
DEPLOYMENT_ENV = "VENUE_DEPLOYMENT_CONFIG"
