"""Tracing: re-execute transactions and calls with a tracer attached (debug_*, trace_*, ots_* and console.log).

Layers: `hooks` (the EVM loop with tracer calls) <- tracers (`struct_log`, `calls`, `prestate`) <- `replay`
(which state and block to run them on) <- the API modules.
"""
