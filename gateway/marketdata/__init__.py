"""The venue's market data: an ITCH-style order-by-order feed in MoldUDP64 packets over UDP
(multicast, or unicast where multicast is unavailable) and ZeroMQ, conflated Level 1 / Level 2,
gap recovery and snapshots over TCP, and a subscriber library that rebuilds the books.

Wire layouts live once, in native/md/md_feed.h; ``schema`` derives the numpy view of them. The
per-message work (encoding, packet assembly, validation, applying to a book) is C (native/md/md_*.c);
this package owns sockets, timing, recovery and presentation.
"""
