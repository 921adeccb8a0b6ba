// A stand-in for an mcpd-postgres.so from another build: only its build id, which the loader
// must refuse before looking any further (tests/integration/storage/postgres_module.sh).
extern "C" __attribute__((visibility("default"))) const char* mcpd_postgres_build_id_v1() noexcept {
  return "another-build";
}
