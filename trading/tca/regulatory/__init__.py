"""Regulatory reports generated from the journal for a period: SEC Rule 605 (as amended in 2024)
and Rule 606, MiFID II RTS 22 transaction reports (field rules as data, every row validated),
RTS 27 / RTS 28 best-execution reports (with their regulatory status in the header), and a
CAT-like audit trail of every order's life."""
