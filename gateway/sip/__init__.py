"""The consolidator (a SIP-like process): the venues' market-data feeds in, the NBBO and each venue's
protected quote out (consolidator.py: the pure part; messages.py: what it publishes; process.py:
`python -m gateway sip`; subscriber.py: reading its feed)."""
