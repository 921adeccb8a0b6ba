# Storage: the TokenStore contract suite on both backends (PostgreSQL through the module
# mcpd-postgres.so, loaded as mcpd loads it), a throw-away PostgreSQL server as a
# CTest fixture, the admin CLI (user/token) driven through the real binary, and a lookup
# benchmark (built on request: `ninja bench_token_lookup`; not a test).

set(MCPD_STORAGE_UNIT ${PROJECT_SOURCE_DIR}/tests/unit/storage)
set(MCPD_STORAGE_SCRIPTS ${CMAKE_CURRENT_SOURCE_DIR}/storage)
set(MCPD_PG_DIR ${CMAKE_BINARY_DIR}/tests/pg)
set(MCPD_PG_URL_FILE ${MCPD_PG_DIR}/url)

# --- PostgreSQL test server (tests/pg/pg_ctl.sh) ---
add_test(NAME postgres_start COMMAND ${PROJECT_SOURCE_DIR}/tests/pg/pg_ctl.sh start ${MCPD_PG_DIR})
set_tests_properties(postgres_start PROPERTIES FIXTURES_SETUP postgres TIMEOUT 300)
add_test(NAME postgres_stop COMMAND ${PROJECT_SOURCE_DIR}/tests/pg/pg_ctl.sh stop ${MCPD_PG_DIR})
set_tests_properties(postgres_stop PROPERTIES FIXTURES_CLEANUP postgres TIMEOUT 120)

# --- the contract suite, once per backend ---
# contract_*.cpp are not picked up by the unit-test glob (test_*.cpp): one executable, two runs.
add_executable(storage_contract
  ${MCPD_STORAGE_UNIT}/contract_token_store.cpp
  ${MCPD_STORAGE_UNIT}/contract_support.cpp
  $<TARGET_OBJECTS:mcpd_catch_main>)
target_link_libraries(storage_contract PRIVATE mcpd_storage mcpd_core Catch2::Catch2 SQLiteCpp
                                               PkgConfig::PQXX mcpd_warnings mcpd_coverage)
mcpd_use_sanitizer_defaults(storage_contract)

add_test(NAME storage_contract_sqlite COMMAND storage_contract)
set_tests_properties(storage_contract_sqlite PROPERTIES
  ENVIRONMENT "MCPD_TEST_BACKEND=sqlite" TIMEOUT 600 LABELS storage)
add_test(NAME storage_contract_postgres COMMAND storage_contract)
set_tests_properties(storage_contract_postgres PROPERTIES
  FIXTURES_REQUIRED postgres
  ENVIRONMENT "MCPD_TEST_BACKEND=postgres;MCPD_TEST_PG_URL_FILE=${MCPD_PG_URL_FILE}"
  TIMEOUT 600 LABELS "storage;postgres")

# --- the admin CLI through the real binary ---
foreach(script cli_users cli_tokens cli_database cli_concurrent)
  add_test(NAME storage_${script}_sqlite
           COMMAND bash ${MCPD_STORAGE_SCRIPTS}/${script}.sh ${MCPD_BINARY} sqlite)
  set_tests_properties(storage_${script}_sqlite PROPERTIES TIMEOUT 300 LABELS storage)
endforeach()
foreach(script cli_users cli_tokens cli_concurrent)
  add_test(NAME storage_${script}_postgres
           COMMAND bash ${MCPD_STORAGE_SCRIPTS}/${script}.sh ${MCPD_BINARY} postgres)
  set_tests_properties(storage_${script}_postgres PROPERTIES
    FIXTURES_REQUIRED postgres
    ENVIRONMENT "MCPD_TEST_PG_URL_FILE=${MCPD_PG_URL_FILE}"
    TIMEOUT 300 LABELS "storage;postgres")
endforeach()

# --- PostgreSQL as a module: what mcpd links and maps, and a missing, broken or foreign module ---
# A stand-in for a module of another build (another build id).
add_library(storage_foreign_module MODULE ${MCPD_STORAGE_SCRIPTS}/foreign_module.cpp)
set_target_properties(storage_foreign_module PROPERTIES PREFIX "" CXX_VISIBILITY_PRESET hidden)
add_test(NAME storage_postgres_module
         COMMAND bash ${MCPD_STORAGE_SCRIPTS}/postgres_module.sh ${MCPD_BINARY}
                 $<TARGET_FILE:mcpd_postgres> $<TARGET_FILE:storage_foreign_module>
                 ${MCPD_POSTGRES_MODULE_RELATIVE_DIR})
set_tests_properties(storage_postgres_module PROPERTIES TIMEOUT 300 LABELS "storage;postgres")

# --- lookup benchmark (not part of ctest) ---
add_executable(bench_token_lookup EXCLUDE_FROM_ALL ${PROJECT_SOURCE_DIR}/tests/bench/token_lookup.cpp)
target_link_libraries(bench_token_lookup PRIVATE mcpd_storage mcpd_core mcpd_warnings)
