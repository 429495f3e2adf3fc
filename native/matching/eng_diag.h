/*
 * eng_diag.h - diagnostics for the engine's invariant checker (eng_check in eng_engine.h).
 * Kept apart from the public contract header: only tests and tools need the names.
 */
#ifndef ENG_DIAG_H
#define ENG_DIAG_H

/* CFFI-BEGIN */

/* A static, NUL-terminated name for an eng_check() result (0: "ok"); never NULL. */
const char *eng_check_describe(int rc);

/* CFFI-END */

#endif /* ENG_DIAG_H */
