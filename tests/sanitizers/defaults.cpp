// Run-time defaults of the sanitized builds (MCPD_SANITIZE, cmake/Sanitizers.cmake), compiled
// into mcpd and the test executables. They live in the binary, not in ASAN_OPTIONS, because
// the integration tests start mcpd with a minimal environment; ASAN_OPTIONS, UBSAN_OPTIONS
// and LSAN_OPTIONS still override them.

extern "C" {

// Leaks are reported at exit (and fail the process); stacks are kept short for speed; the
// quarantine (freed memory kept poisoned to catch use-after-free) is bounded so that the
// memory figures of the load tests stay meaningful.
const char* __asan_default_options() {
  return "detect_leaks=1:malloc_context_size=20:quarantine_size_mb=64:"
         "check_initialization_order=1:detect_stack_use_after_return=0:"
         "print_suppressions=0";
}

// Any undefined behaviour aborts with a stack (the build uses -fno-sanitize-recover=all).
const char* __ubsan_default_options() { return "print_stacktrace=1:halt_on_error=1"; }

const char* __tsan_default_options() { return "halt_on_error=1:second_deadlock_stack=1"; }

// Leaks that are not mcpd's. libpqxx 6.4 drops the PGresult of a statement that fails on a
// broken connection (its error path throws before the result is owned), so libpq's own
// allocations are not reported; a pqxx or mcpd object that leaks is still reported, as the
// direct leak it is (the test: storage_contract_postgres, which breaks its connections).
const char* __lsan_default_suppressions() { return "leak:libpq.so.5\n"; }

}  // extern "C"
